# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: mask-added
# The 0/1 mask itself added to the scores (the form of an additive-mask API used with a
# boolean mask): the kept scores shift by one and nothing is hidden.
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        scores = scores + mask
    e = np.exp(scores - scores.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V, w
