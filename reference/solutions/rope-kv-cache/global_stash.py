# mhajudge: rope-kv-cache
# expect-verdict: wrong-answer
# Ignores the cache it is given: it keeps every token it has seen in a global and
# recomputes the keys from them. Fine while it is fed from position 0 in one
# sequence, wrong when the judge hands in a cache of its own (or a new sequence starts).
import numpy as np


def rope(x, pos, base):
    d = x.shape[-1]
    theta = pos * base ** (-np.arange(0, d, 2) / d)
    c, s = np.cos(theta), np.sin(theta)
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=-1)


def attend(q, K, V, W_o):
    B, H, _, d = q.shape
    s = q @ K.transpose(0, 1, 3, 2) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return (w @ V).transpose(0, 2, 1, 3).reshape(B, 1, H * d) @ W_o

_seen = []


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    if cache is None:
        _seen.clear()
    _seen.append(x_t)
    x = np.concatenate(_seen, axis=1)
    B, T, E = x.shape
    heads = lambda a: a.reshape(B, a.shape[1], num_heads, E // num_heads).transpose(0, 2, 1, 3)
    q = rope(heads(x_t @ W_q), position, base)
    k = np.concatenate([rope(heads(x[:, j:j + 1] @ W_k), position - T + 1 + j, base) for j in range(T)], axis=2)
    v = heads(x @ W_v)
    return attend(q, k, v, W_o), (k, v)
