"""Projections, one attention head, and multi-head attention without W_o (unbatched).

    Q, K, V = X W_q, X W_k, X W_v
    head_h  = softmax(Q_h K_h^T / sqrt(d_k)) V_h      Q_h = Q[:, h*d_k:(h+1)*d_k]
    output  = concat(head_0, ..., head_{H-1})           (L, d_model)
"""

import math

import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    # X (L, d_model), each W (d_model, d_model)
    return X @ W_q, X @ W_k, X @ W_v                    # 3 x (L, d_model)


def softmax(scores):
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))    # no overflow
    return e / e.sum(axis=-1, keepdims=True)                    # over the keys


def self_attention(Q, K, V):
    # Q, K, V (L, d_k); also works with leading dimensions, e.g. (H, L, d_k)
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / math.sqrt(d_k)   # (L, L)
    return softmax(scores) @ V                              # (L, d_k)


def multi_head_attention(Q, K, V, n_heads):
    # Q, K, V (L, d_model), already projected
    L, d_model = Q.shape
    d_k = d_model // n_heads
    q = Q.reshape(L, n_heads, d_k).transpose(1, 0, 2)      # (H, L, d_k): head h owns features [h*d_k, (h+1)*d_k)
    k = K.reshape(L, n_heads, d_k).transpose(1, 0, 2)      # (H, L, d_k)
    v = V.reshape(L, n_heads, d_k).transpose(1, 0, 2)      # (H, L, d_k)
    heads = self_attention(q, k, v)                        # (H, L, d_k)
    return heads.transpose(1, 0, 2).reshape(L, d_model)    # (L, d_model), heads concatenated in order
