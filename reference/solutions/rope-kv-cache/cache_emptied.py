# mhajudge: rope-kv-cache
# expect-verdict: wrong-answer
# Hostile answer shapes: attends correctly but returns caches with an empty time
# axis at even positions, and float16 lists of the wrong rank at odd ones. The
# judge must say what is wrong with the cache, not crash while checking it.
import numpy as np


def rope(x, pos, base):
    d = x.shape[-1]
    theta = pos * base ** (-np.arange(0, d, 2) / d)
    c, s = np.cos(theta), np.sin(theta)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    B, _, E = x_t.shape
    d = E // num_heads
    heads = lambda a: a.reshape(B, 1, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = rope(heads(x_t @ W_q), position, base), rope(heads(x_t @ W_k), position, base), heads(x_t @ W_v)
    if cache is not None and np.asarray(cache[0]).ndim == 4 and np.asarray(cache[0]).shape[2]:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, 1, E) @ W_o
    if position % 2 == 0:
        return out, (k[:, :, :0], v[:, :, :0])
    return out, (k[0].astype(np.float16).tolist(), v[0].astype(np.float16).tolist())
