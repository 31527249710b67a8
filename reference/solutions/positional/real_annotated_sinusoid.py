# mhajudge: positional
# expect-verdict: wrong-answer
# expect-diagnosis: float32-precision
# source: https://github.com/harvardnlp/annotated-transformer/blob/master/the_annotated_transformer.py
# The Annotated Transformer's PositionalEncoding in NumPy: div_term through exp(log),
# everything in float32 (torch's default dtype); the RoPE half is written right.
import math

import numpy as np


def sinusoidal_encoding(seq_len, d_model):
    pe = np.zeros((seq_len, d_model), dtype=np.float32)
    position = np.arange(0, seq_len, dtype=np.float32)[:, None]
    div_term = np.exp(np.arange(0, d_model, 2, dtype=np.float32) * np.float32(-(math.log(10000.0) / d_model)))
    pe[:, 0::2] = np.sin(position * div_term)
    pe[:, 1::2] = np.cos(position * div_term)
    return pe


def apply_rope(x, positions, base=10000.0):
    half = x.shape[-1] // 2
    theta = np.asarray(positions)[:, None] * base ** (-2.0 * np.arange(half) / (2 * half))
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * np.cos(theta) - x2 * np.sin(theta), x2 * np.cos(theta) + x1 * np.sin(theta)], -1)
