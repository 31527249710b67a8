"""The named mistakes of positional, as code."""

from functools import partial

import numpy as np

PE = "sinusoidal_encoding"
ROPE = "apply_rope"


def sinusoid(seq_len, d_model, *, swap=False, halves=False):
    """swap: cos on even features, sin on odd; halves: [sin | cos] instead of interleaved."""
    pos = np.arange(seq_len)[:, None]
    angle = pos / 10000.0 ** (np.arange(0, d_model, 2) / d_model)     # (L, d/2)
    first, second = (np.cos(angle), np.sin(angle)) if swap else (np.sin(angle), np.cos(angle))
    if halves:
        return np.concatenate([first, second], axis=-1)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2], pe[:, 1::2] = first, second
    return pe


def rope(x, positions, base=10000.0, *, interleaved=False, own_positions=False, fixed_base=False,
         backwards=False):
    """interleaved: pairs (2i, 2i+1); own_positions: 0..L-1 instead of ``positions``;
    fixed_base: 10000 whatever ``base`` says; backwards: rotated by -theta."""
    d = x.shape[-1]
    L = x.shape[-2]
    pos = np.arange(L) if own_positions else np.asarray(positions)
    b = 10000.0 if fixed_base else base
    theta = pos[:, None] * b ** (-2.0 * np.arange(d // 2) / d)            # (L, d/2)
    cos, sin = np.cos(theta), np.sin(theta)
    if backwards:
        sin = -sin
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        out = np.empty(x.shape)
        out[..., 0::2], out[..., 1::2] = x1 * cos - x2 * sin, x2 * cos + x1 * sin
        return out
    x1, x2 = x[..., : d // 2], x[..., d // 2:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


MISTAKES = {
    "sin-cos-swapped": {PE: partial(sinusoid, swap=True)},
    "sinusoid-halves": {PE: partial(sinusoid, halves=True)},
    "rope-interleaved": {ROPE: partial(rope, interleaved=True)},
    "rope-ignores-positions": {ROPE: partial(rope, own_positions=True)},
    "rope-base-ignored": {ROPE: partial(rope, fixed_base=True)},
    "rope-rotated-backwards": {ROPE: partial(rope, backwards=True)},
}

ACCEPTED = {}
