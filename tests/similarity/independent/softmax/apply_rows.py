# mhajudge: softmax
import numpy as np


def _one(vector):
    best = vector.max()
    if best == -np.inf:
        return np.zeros_like(vector)
    shifted = np.exp(vector - best)
    return shifted / shifted.sum()


def softmax(x, axis=-1):
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 0:
        return np.ones_like(arr)
    return np.apply_along_axis(_one, axis, arr)
