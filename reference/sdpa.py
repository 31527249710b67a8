"""Scaled dot-product attention, with an optional mask.

    weights = softmax(Q K^T / sqrt(d_k))    over the keys, masked keys get 0
    output  = weights V
"""

import math

import numpy as np


def masked_softmax(scores, keep=None):
    """Softmax over the last axis; ``keep`` False means weight exactly 0.

    A row with no kept key gives all-zero weights (not NaN).
    """
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)                # (..., Lq, 1)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)      # fully masked rows
    e = np.exp(scores - row_max)                                # masked -> exp(-inf) = 0
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def scaled_dot_product_attention(Q, K, V, mask=None):
    # Q (..., Lq, d_k), K (..., Lk, d_k), V (..., Lk, d_v)
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / math.sqrt(d_k)        # (..., Lq, Lk)
    keep = None if mask is None else np.broadcast_to(np.asarray(mask).astype(bool), scores.shape)
    weights = masked_softmax(scores, keep)                      # (..., Lq, Lk)
    return weights @ V, weights                                 # (..., Lq, d_v), (..., Lq, Lk)
