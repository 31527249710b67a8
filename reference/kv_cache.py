"""One step of incremental decoding with a KV cache.

The newest token is projected once; its key and value are appended to the cache
of the earlier tokens, and its query attends over all of them. No mask is
needed: the cache only ever holds the past and the token itself.
"""

import math

import numpy as np


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, _, E = x_t.shape                                              # x_t (B, 1, E)
    d_k = E // num_heads

    def split(a):                                                    # (B, 1, E) -> (B, H, 1, d_k)
        return a.reshape(B, 1, num_heads, d_k).transpose(0, 2, 1, 3)

    q, k, v = split(x_t @ W_q), split(x_t @ W_k), split(x_t @ W_v)
    if cache is not None:
        K_cache, V_cache = cache                                     # (B, H, t, d_k) each
        k = np.concatenate([K_cache, k], axis=2)                     # (B, H, t+1, d_k)
        v = np.concatenate([V_cache, v], axis=2)

    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k)            # (B, H, 1, t+1)
    heads = softmax(scores) @ v                                      # (B, H, 1, d_k)
    out_t = heads.transpose(0, 2, 1, 3).reshape(B, 1, E) @ W_o       # (B, 1, E)
    return out_t, (k, v)
