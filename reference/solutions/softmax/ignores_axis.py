# mhajudge: softmax
# expect-verdict: wrong-answer
# expect-diagnosis: softmax-wrong-axis
import numpy as np


def softmax(x, axis=-1):
    # the axis argument is accepted but never used
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
