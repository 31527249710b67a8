# mhajudge: softmax
import math

import numpy as np


def softmax(x, axis=-1):
    data = np.moveaxis(np.array(x, dtype=float), axis, 0)
    flat = data.reshape(data.shape[0], -1)
    result = np.zeros_like(flat)
    col = 0
    while col < flat.shape[1]:
        column = flat[:, col]
        biggest = -math.inf
        for value in column:
            if value > biggest:
                biggest = value
        exps = np.array([math.exp(value - biggest) for value in column])
        result[:, col] = exps / exps.sum()
        col += 1
    return np.moveaxis(result.reshape(data.shape), 0, axis)
