"""One Llama-style decoding step: RoPE on the new query and key, then a KV cache.

The new token at absolute position ``position`` is projected once; its query and
key are rotated at that position (rotate-half RoPE, as positional's apply_rope);
the rotated key and the plain value are appended to the cache, and the query
attends over the whole cache. Cached keys were rotated at their own positions
when they were cached, so they are never rotated again.
"""

import math

import numpy as np


def apply_rope(x, positions, base=10000.0):
    half = x.shape[-1] // 2
    inv_freq = base ** (-2.0 * np.arange(half) / (2 * half))        # (d/2,)
    theta = np.asarray(positions)[:, None] * inv_freq               # (L, d/2)
    cos, sin = np.cos(theta), np.sin(theta)
    x1, x2 = x[..., :half], x[..., half:]                           # (..., L, d/2) each
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)   # (..., L, d)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    B, _, E = x_t.shape                                              # x_t (B, 1, E)
    d_k = E // num_heads

    def split(a):                                                    # (B, 1, E) -> (B, H, 1, d_k)
        return a.reshape(B, 1, num_heads, d_k).transpose(0, 2, 1, 3)

    q, k, v = split(x_t @ W_q), split(x_t @ W_k), split(x_t @ W_v)
    q = apply_rope(q, [position], base)                              # (B, H, 1, d_k) rotated at position
    k = apply_rope(k, [position], base)                              # values are not rotated
    if cache is not None:
        K_cache, V_cache = cache                                     # (B, H, t, d_k) each
        k = np.concatenate([K_cache, k], axis=2)                     # (B, H, t+1, d_k)
        v = np.concatenate([V_cache, v], axis=2)

    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k)            # (B, H, 1, t+1)
    heads = softmax(scores) @ v                                      # (B, H, 1, d_k)
    out_t = heads.transpose(0, 2, 1, 3).reshape(B, 1, E) @ W_o       # (B, 1, E)
    return out_t, (k, v)
