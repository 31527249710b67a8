# mhajudge: softmax
# expect-verdict: wrong-answer
# expect-diagnosis: softmax-whole-array
import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)
