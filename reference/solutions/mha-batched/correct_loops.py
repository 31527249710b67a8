# mhajudge: mha-batched
# expect-verdict: accepted
# A correct solution: Python loops over batch items and heads.
import math

import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    batch, seq, d_model = Q.shape
    d_k = d_model // n_heads
    out = np.zeros((batch, seq, d_model))
    for b in range(batch):
        for h in range(n_heads):
            lo, hi = h * d_k, (h + 1) * d_k
            scores = Q[b, :, lo:hi] @ K[b, :, lo:hi].T / math.sqrt(d_k)
            scores = scores - np.max(scores, axis=1, keepdims=True)
            w = np.exp(scores)
            w = w / np.sum(w, axis=1, keepdims=True)
            out[b, :, lo:hi] = w @ V[b, :, lo:hi]
    return out
