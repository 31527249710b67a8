"""The named mistakes of positional, as code."""

from functools import partial

import numpy as np

PE = "sinusoidal_encoding"
ROPE = "apply_rope"


def sinusoid(seq_len, d_model, *, swap=False, halves=False, f32=""):
    """swap: cos on even features, sin on odd; halves: [sin | cos] instead of interleaved;
    f32: "angles" or "table" computed in float32 (``PRECISION``)."""
    pos = np.arange(seq_len)[:, None]
    angle = pos / 10000.0 ** (np.arange(0, d_model, 2) / d_model)     # (L, d/2)
    if f32 == "angles":
        pos32 = np.arange(seq_len, dtype=np.float32)[:, None]
        angle = pos32 / np.float32(10000.0) ** (np.arange(0, d_model, 2, dtype=np.float32) / np.float32(d_model))
    first, second = (np.cos(angle), np.sin(angle)) if swap else (np.sin(angle), np.cos(angle))
    if halves:
        return np.concatenate([first, second], axis=-1)
    pe = np.zeros((seq_len, d_model), dtype=np.float32 if f32 == "table" else np.float64)
    pe[:, 0::2], pe[:, 1::2] = first, second
    return pe.astype(np.float64)


def rope(x, positions, base=10000.0, *, interleaved=False, own_positions=False, fixed_base=False,
         backwards=False, f32=""):
    """interleaved: pairs (2i, 2i+1); own_positions: 0..L-1 instead of ``positions``;
    fixed_base: 10000 whatever ``base`` says; backwards: rotated by -theta;
    f32: "inverse frequencies" or "angles" computed in float32 (``PRECISION``)."""
    d = x.shape[-1]
    L = x.shape[-2]
    pos = np.arange(L) if own_positions else np.asarray(positions)
    b = 10000.0 if fixed_base else base
    inv_freq = b ** (-2.0 * np.arange(d // 2) / d)                         # (d/2,)
    if f32:                                                                 # as every public RoPE writes it
        inv_freq = 1.0 / (np.float32(b) ** (np.arange(0, d, 2, dtype=np.float32) / np.float32(d)))
    theta = pos[:, None] * inv_freq                                         # (L, d/2)
    if f32 == "angles":
        theta = np.outer(pos.astype(np.float32), inv_freq).astype(np.float32)
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

# The reference with one part computed in float32, to say what a float64 answer that is
# right only to float32 precision computed in float32.
PRECISION = {
    PE: {"the angles": partial(sinusoid, f32="angles"), "the encoding table": partial(sinusoid, f32="table")},
    ROPE: {"the rotation angles": partial(rope, f32="angles"),
           "the inverse frequencies": partial(rope, f32="inverse frequencies")},
}

ACCEPTED = {}
