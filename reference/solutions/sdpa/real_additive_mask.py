# mhajudge: sdpa
# expect-verdict: wrong-answer
# expect-diagnosis: mask-added
# source: https://github.com/ajhalthor/Transformer-Neural-Network
# Its scaled_dot_product_attention in NumPy, written for an additive mask (0 where kept,
# -inf where hidden): scaled = scaled + mask. Given this problem's 0/1 mask it adds the
# mask itself, so nothing is hidden and the kept scores move up by one.
import math

import numpy as np


def softmax(x, axis=-1):
    x = x - np.max(x, axis=axis, keepdims=True)
    exp_x = np.exp(x)
    return exp_x / np.sum(exp_x, axis=axis, keepdims=True)


def scaled_dot_product_attention(q, k, v, mask=None):
    d_k = q.shape[-1]
    scaled = np.matmul(q, np.swapaxes(k, -2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scaled = scaled + mask
    attention = softmax(scaled, axis=-1)
    out = np.matmul(attention, v)
    return out, attention
