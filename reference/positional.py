"""Positional information: sinusoidal encodings and rotary embeddings (RoPE).

    PE[p, 2i] = sin(p / 10000**(2i/d)),  PE[p, 2i+1] = cos(p / 10000**(2i/d))
    RoPE, rotate-half pairing: feature i turns with feature i + d/2 by
    theta_i = position * base**(-2i/d)
"""

import numpy as np


def sinusoidal_encoding(seq_len, d_model):
    pos = np.arange(seq_len)[:, None]                       # (L, 1)
    two_i = np.arange(0, d_model, 2)                        # (d/2,): 0, 2, 4, ...
    angle = pos / 10000.0 ** (two_i / d_model)              # (L, d/2)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angle)                             # even features
    pe[:, 1::2] = np.cos(angle)                             # odd features
    return pe                                               # (L, d)


def apply_rope(x, positions, base=10000.0):
    half = x.shape[-1] // 2
    inv_freq = base ** (-2.0 * np.arange(half) / (2 * half))        # (d/2,)
    theta = np.asarray(positions)[:, None] * inv_freq               # (L, d/2)
    cos, sin = np.cos(theta), np.sin(theta)
    x1, x2 = x[..., :half], x[..., half:]                           # (..., L, d/2) each
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)   # (..., L, d)
