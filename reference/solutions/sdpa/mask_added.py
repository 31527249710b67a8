# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: mask-added
# The additive-mask habit: a large negative number added where masked. Right while a
# row keeps a key; a fully masked row comes out as if nothing were masked.
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = s + (1.0 - np.asarray(mask, dtype=float)) * -1e9
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V, w
