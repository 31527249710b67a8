"""Sampling the next token: temperature, top-k, top-p (nucleus), then a draw.

    logits / temperature -> keep top-k -> keep top-p -> softmax -> draw
"""

import numpy as np


def softmax(z):
    """Softmax of a vector; -inf entries get probability 0."""
    e = np.exp(z - z.max())                                     # max subtracted: no overflow
    return e / e.sum()


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    logits = np.asarray(logits, dtype=np.float64)               # (V,)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1 or None, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1] or None, got {top_p}")
    if temperature == 0:
        return int(np.argmax(logits))                           # greedy; argmax picks the first of ties

    z = logits / temperature                                    # (V,)
    if top_k is not None:
        kth = np.sort(z)[::-1][min(top_k, z.size) - 1]          # the k-th largest logit
        z = np.where(z >= kth, z, -np.inf)                      # ties at the boundary are kept
    probs = softmax(z)                                          # (V,), 0 outside top-k

    if top_p is not None:
        order = np.argsort(-probs, kind="stable")               # most likely first
        sorted_probs = probs[order]
        before = np.cumsum(sorted_probs) - sorted_probs         # mass ranked above each token
        probs[order[before >= top_p]] = 0.0                     # the token that crosses top_p stays
        probs /= probs.sum()

    rng = np.random.default_rng(seed)
    return int(rng.choice(probs.size, p=probs))
