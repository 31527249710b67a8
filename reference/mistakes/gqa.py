"""The named mistakes of gqa, as code, and the accepted -1e9 convention.

``attention`` is multi-head attention (grouped when ``num_kv_heads < num_heads``)
with at most one thing done wrong; causal_attention reuses it with a causal mask.
"""

from functools import partial

import numpy as np

from mhajudge_reference.mistakes.mha_projected import attend

F = "grouped_query_attention"


def _split(t, n, how):
    """(B, L, n*d_k) -> (B, n, L, d_k), right or in one of the classic wrong ways."""
    B, L, D = t.shape
    if how == "reshape":                                   # straight to (B, n, L, d_k)
        return t.reshape(B, n, L, D // n)
    if how == "last":                                      # (B, L, d_k, n), head axis moved forward
        return t.reshape(B, L, D // n, n).transpose(0, 3, 1, 2)
    return t.reshape(B, L, n, D // n).transpose(0, 2, 1, 3)


def _merge(t, how):
    """(B, H, L, d_k) -> (B, L, H*d_k), the inverse of ``_split`` (or no transpose)."""
    B, H, L, d_k = t.shape
    if how in ("reshape", "merge"):                        # "merge": right split, no transpose back
        return t.reshape(B, L, H * d_k)
    if how == "last":
        return t.transpose(0, 2, 3, 1).reshape(B, L, H * d_k)
    return t.transpose(0, 2, 1, 3).reshape(B, L, H * d_k)


def attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None, *, scale="d_k", axis=-1,
              stable=True, guard=True, mask_mode="before", invert=False, values=True, project=True,
              split="heads", kv="grouped", fill=-np.inf):
    """Returns (output, weights). Every keyword but ``fill`` names one classic mistake:

    scale None / "d_model", axis=-2, stable=False, guard=False (a fully masked row
    gives NaN), mask_mode "after" / "add", invert=True, values=False (weights @ K),
    project=False (no W_o), split "reshape" / "last" / "merge", kv="tiled".
    """
    B, L, E = x.shape
    split_q = "heads" if split == "merge" else split
    q = _split(x @ W_q, num_heads, split_q)
    k = _split(x @ W_k, num_kv_heads, split_q)
    v = _split(x @ W_v, num_kv_heads, split_q)
    group = num_heads // num_kv_heads
    if kv == "tiled":                                      # head h gets KV head h % num_kv_heads
        k, v = np.tile(k, (1, group, 1, 1)), np.tile(v, (1, group, 1, 1))
    else:
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
    scale = {"d_k": "d_k", "d_model": E, None: None}[scale]      # attend divides by sqrt(that)
    heads, weights = attend(q, k, v, mask, scale=scale, axis=axis, stable=stable, guard=guard,
                            mask_mode=mask_mode, invert=invert, values=values, fill=fill)  # (B, H, L, d_k)
    out = _merge(heads, split)
    return (out @ W_o if project else out), weights


def grouped(**wrong):
    """The gqa entry point with one mistake; it still checks its arguments."""
    def fn(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
        if num_kv_heads < 1 or num_heads % num_kv_heads != 0:
            raise ValueError("num_heads must be a multiple of num_kv_heads")
        return attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask, **wrong)[0]
    return fn


def both_fills(**wrong):
    """The mistake as written with a -inf fill and with a -1e9 fill."""
    return [grouped(**wrong), grouped(fill=-1e9, **wrong)]


HEAD_SPLITS = ("reshape", "last", "merge")

MISTAKES = {
    "gqa-tiled": {F: both_fills(kv="tiled")},
    "no-scale": {F: both_fills(scale=None)},
    "scale-d-model": {F: both_fills(scale="d_model")},
    "softmax-wrong-axis": {F: both_fills(axis=-2)},
    "unstable-softmax": {F: both_fills(stable=False)},
    "mask-after-softmax": {F: both_fills(mask_mode="after")},
    "mask-inverted": {F: both_fills(invert=True)},
    "masked-row-nan": {F: [grouped(guard=False)]},
    "mask-added": {F: [grouped(mask_mode="add", fill=-1e9)]},
    "heads-interleaved": {F: [f for how in HEAD_SPLITS for f in both_fills(split=how)]},
    "weights-times-keys": {F: both_fills(values=False)},
    "no-output-projection": {F: both_fills(project=False)},
}

# A fully masked row may also give uniform weights, as a -1e9 fill does.
ACCEPTED = {F: [grouped(fill=-1e9)]}
