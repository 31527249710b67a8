# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: masked-row-nan
# source: https://github.com/karpathy/nanoGPT/blob/master/model.py
# nanoGPT's manual attention in NumPy: att.masked_fill(mask == 0, float('-inf')) and a
# softmax that subtracts the row maximum (as F.softmax does). Under a causal mask no
# row is ever empty; under this problem's masks a fully masked row is -inf - (-inf) = NaN.
# That is masked-row-nan, not unstable-softmax: the large scores are handled.
import math

import numpy as np


def softmax(att, dim=-1):
    att = np.exp(att - att.max(axis=dim, keepdims=True))
    return att / att.sum(axis=dim, keepdims=True)


def scaled_dot_product_attention(Q, K, V, mask=None):
    att = (Q @ np.swapaxes(K, -2, -1)) * (1.0 / math.sqrt(K.shape[-1]))
    if mask is not None:
        att = np.where(np.asarray(mask) == 0, float("-inf"), att)
    att = softmax(att, dim=-1)
    return att @ V, att
