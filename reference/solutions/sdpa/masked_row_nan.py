# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: masked-row-nan
# Subtracts the row maximum (so no overflow), but a -inf fill with no guard makes a
# fully masked row -inf - (-inf) = NaN: this is not unstable-softmax.
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V, w
