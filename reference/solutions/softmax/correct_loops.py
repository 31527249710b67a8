# mhajudge: softmax
# expect-verdict: accepted
# A correct softmax written with Python loops over the slices (math.exp, one max per slice).
import math

import numpy as np


def softmax(x, axis=-1):
    x = np.asarray(x, dtype=float)
    moved = np.moveaxis(x, axis, -1)
    out = np.empty_like(moved)
    for idx in np.ndindex(*moved.shape[:-1]):
        row = moved[idx]
        top = max(row)
        e = [math.exp(v - top) for v in row]
        total = sum(e)
        out[idx] = [v / total for v in e]
    return np.moveaxis(out, -1, axis)
