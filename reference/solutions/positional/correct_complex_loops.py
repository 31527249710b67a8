# mhajudge: positional
# expect-verdict: accepted
# A correct solution: the encoding with two Python loops, RoPE as a complex
# multiplication of z = x1 + i*x2 by exp(i*theta).
import math

import numpy as np


def sinusoidal_encoding(seq_len, d_model):
    pe = [[0.0] * d_model for _ in range(seq_len)]
    for p in range(seq_len):
        for i in range(d_model // 2):
            angle = p / (10000 ** (2 * i / d_model))
            pe[p][2 * i] = math.sin(angle)
            pe[p][2 * i + 1] = math.cos(angle)
    return pe


def apply_rope(x, positions, base=10000.0):
    x = np.asarray(x, dtype=np.float64)
    half = x.shape[-1] // 2
    theta = np.array([[int(p) * base ** (-2 * i / x.shape[-1]) for i in range(half)] for p in positions])
    z = (x[..., :half] + 1j * x[..., half:]) * np.exp(1j * theta)
    return np.concatenate([z.real, z.imag], axis=-1)
