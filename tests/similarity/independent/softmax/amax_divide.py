# mhajudge: softmax
import numpy as np


def softmax(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    peak = np.amax(x, axis=axis, keepdims=True)
    peak[~np.isfinite(peak)] = 0
    numer = np.exp(np.subtract(x, peak))
    denom = np.add.reduce(numer, axis=axis, keepdims=True)
    return np.divide(numer, denom)
