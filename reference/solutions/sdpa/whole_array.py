# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: softmax-whole-array
# np.sum without an axis: one normaliser for every row of every batch.
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s - np.max(s))
    w = e / np.sum(e)
    return w @ V, w
