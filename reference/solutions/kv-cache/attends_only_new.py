# mhajudge: kv-cache
# expect-verdict: wrong-answer
# expect-diagnosis: cache-not-appended
# Appends to the cache but attends with the new token's key and value only.
import numpy as np


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x_t.shape
    d = E // num_heads
    q = (x_t @ W_q).reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)
    k = (x_t @ W_k).reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)
    v = (x_t @ W_v).reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)
    if cache is None:
        new_cache = (k, v)
    else:
        new_cache = (np.concatenate([cache[0], k], 2), np.concatenate([cache[1], v], 2))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    return out @ W_o, new_cache
