"""A numerically stable softmax along any axis.

    softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))    within each slice along ``axis``

Subtracting the slice's maximum changes nothing mathematically and keeps exp() <= 1,
so logits of 1e4 do not overflow. A -inf logit gets weight exactly 0 (every slice
keeps at least one finite logit, so its maximum is finite).
"""

import numpy as np


def softmax(x, axis=-1):
    x = np.asarray(x)
    shifted = x - x.max(axis=axis, keepdims=True)       # same shape as x, each slice's max is 0
    e = np.exp(shifted)                                 # in [0, 1]
    return e / e.sum(axis=axis, keepdims=True)          # each slice sums to 1
