# mhajudge: sdpa
"""A correct scaled dot-product attention: run `mhajudge run examples/sdpa_correct.py`."""
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d_k)          # (..., Lq, Lk)
    if mask is not None:
        scores = np.where(np.asarray(mask, dtype=bool), scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)          # no overflow
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)       # rows sum to 1
    return weights @ V, weights
