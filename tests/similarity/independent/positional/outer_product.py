# mhajudge: positional
import numpy as np


def _frequencies(half, base):
    return base ** (-np.arange(half) * 2.0 / (2 * half))


def sinusoidal_encoding(seq_len, d_model):
    angles = np.outer(np.arange(seq_len), _frequencies(d_model // 2, 10000.0))
    table = np.empty((seq_len, d_model))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles)
    return table


def apply_rope(x, positions, base=10000.0):
    d = x.shape[-1]
    theta = np.outer(np.asarray(positions, dtype=float), _frequencies(d // 2, base))
    cos, sin = np.cos(theta), np.sin(theta)
    first, second = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([first * cos - second * sin, second * cos + first * sin], axis=-1)
