# mhajudge: sdpa
"""A classic wrong answer: the scores are never divided by sqrt(d_k).

`mhajudge run examples/sdpa_wrong.py` rejects it and names the mistake.
"""
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2)                           # missing / sqrt(d_k)
    if mask is not None:
        scores = np.where(np.asarray(mask, dtype=bool), scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ V, weights
