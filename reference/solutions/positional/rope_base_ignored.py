# mhajudge: positional
# expect-verdict: wrong-answer
# expect-diagnosis: rope-base-ignored
# Hard-codes 10000 as the base.
import numpy as np


def sinusoidal_encoding(seq_len, d_model):
    pos = np.arange(seq_len)[:, None]
    i = np.arange(d_model // 2)[None, :]
    angle = pos / np.power(10000.0, 2 * i / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return pe


def apply_rope(x, positions, base=10000.0):
    d = x.shape[-1]
    half = d // 2
    freqs = 10000.0 ** (-2 * np.arange(half) / d)
    theta = positions[:, None] * freqs[None, :]
    cos, sin = np.cos(theta), np.sin(theta)
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)
