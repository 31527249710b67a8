# mhajudge: softmax
# expect-verdict: wrong-answer
# expect-diagnosis: softmax-global-max
import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / e.sum(axis=axis, keepdims=True)
