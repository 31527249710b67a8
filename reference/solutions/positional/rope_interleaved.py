# mhajudge: positional
# expect-verdict: wrong-answer
# expect-diagnosis: rope-interleaved
# Pairs adjacent features (2i, 2i+1), the GPT-J / RoFormer layout.
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
    freqs = base ** (-2 * np.arange(half) / d)
    theta = positions[:, None] * freqs[None, :]
    cos, sin = np.cos(theta), np.sin(theta)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    out = np.empty(x.shape)
    out[..., 0::2] = x1 * cos - x2 * sin
    out[..., 1::2] = x2 * cos + x1 * sin
    return out
