# mhajudge: rope-kv-cache
# expect-verdict: wrong-answer
# expect-diagnosis: rope-position-restart rope-cache-unrotated
# Forgets RoPE altogether (as if rotating at position 0). That is the same
# function as caching unrotated keys and turning every key by the new angle
# (the common rotation cancels in q . k), so both names apply.
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


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    B, _, E = x_t.shape
    heads = lambda a: a.reshape(B, 1, num_heads, E // num_heads).transpose(0, 2, 1, 3)
    q, k, v = heads(x_t @ W_q), heads(x_t @ W_k), heads(x_t @ W_v)
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    return attend(q, k, v, W_o), (k, v)
