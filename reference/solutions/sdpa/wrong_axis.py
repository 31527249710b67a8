# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: softmax-wrong-axis
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s - s.max(-2, keepdims=True))
    w = e / e.sum(-2, keepdims=True)
    return w @ V, w
