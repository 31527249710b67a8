"""Batched multi-head attention over already-projected Q, K, V (no W_o, no mask).

    head_h = softmax(Q_h K_h^T / sqrt(d_k)) V_h       Q_h = Q[..., h*d_k:(h+1)*d_k]
    output = concat(head_0, ..., head_{H-1})
"""

import math

import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    # Q, K, V (B, L, d_model)
    B, L, d_model = Q.shape
    d_k = d_model // n_heads
    q = Q.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)    # (B, H, L, d_k)
    k = K.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)    # (B, H, L, d_k)
    v = V.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)    # (B, H, L, d_k)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k)       # (B, H, L, L)
    scores = scores - scores.max(axis=-1, keepdims=True)        # no overflow
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)     # (B, H, L, L), softmax over the keys
    heads = weights @ v                                         # (B, H, L, d_k)
    return heads.transpose(0, 2, 1, 3).reshape(B, L, d_model)  # (B, L, d_model)
