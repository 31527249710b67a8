"""Unbatched multi-head attention with projections and a 0/1 mask.

    Q', K', V' = Q Wq, K Wk, V Wv, split into h heads of d_k = d_model / h features
    head_i = softmax(Q'_i K'_i^T / sqrt(d_k), masked) V'_i      mask 1 = may attend, 0 = weight 0
    O      = concat(head_0, ..., head_{h-1}) Wo
"""

import math

import numpy as np


def masked_softmax(scores, keep=None):
    """Softmax over the last axis; ``keep`` False means weight exactly 0 (all-zero row if nothing is kept)."""
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)                # (..., L, 1)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)      # fully masked rows
    e = np.exp(scores - row_max)                                # masked -> exp(-inf) = 0
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    # Q, K, V (L, d_model), each W (d_model, d_model), mask (L, L) of 0/1 or None
    L, d_model = Q.shape
    d_k = d_model // h
    q = (Q @ Wq).reshape(L, h, d_k).transpose(1, 0, 2)     # (h, L, d_k)
    k = (K @ Wk).reshape(L, h, d_k).transpose(1, 0, 2)     # (h, L, d_k)
    v = (V @ Wv).reshape(L, h, d_k).transpose(1, 0, 2)     # (h, L, d_k)
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d_k)      # (h, L, L)
    keep = None if mask is None else np.asarray(mask) != 0  # (L, L), broadcast over the heads
    weights = masked_softmax(scores, keep)                  # (h, L, L)
    heads = weights @ v                                     # (h, L, d_k)
    concat = heads.transpose(1, 0, 2).reshape(L, d_model)   # (L, d_model), heads in order
    return concat @ Wo                                      # (L, d_model)
