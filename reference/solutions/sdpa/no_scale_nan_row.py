# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: no-scale
# expect-explains: no-scale
# Two defects: no 1/sqrt(d_k), and a -inf fill with no guard (NaN on a fully masked
# row). no-scale explains every failing case but the fully masked rows, where the
# answer has both defects at once; the report says those remain unexplained.
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V, w
