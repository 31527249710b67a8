"""Multi-head self-attention of ``x`` with grouped KV heads and one thing done wrong:
the core of the named mistakes of gqa and causal-attention.

``attention`` is grouped-query attention (multi-head when ``num_kv_heads ==
num_heads``); causal-attention calls it with a causal mask. It splits heads its own
way (``HEAD_SPLITS``: the classic wrong splits and merges) and attends with
``attend`` of ``reference/shared/attention.py``.
"""

import numpy as np

from mhajudge_reference.shared.attention import attend

# The wrong ways to split and merge heads (see ``_split`` and ``_merge``); "heads" is the right one.
HEAD_SPLITS = ("reshape", "last", "merge", "none")


def _split(t, n, how):
    """(B, L, n*d_k) -> (B, n, L, d_k), right or in one of the classic wrong ways."""
    B, L, D = t.shape
    if how == "reshape":                                   # straight to (B, n, L, d_k)
        return t.reshape(B, n, L, D // n)
    if how == "last":                                      # (B, L, d_k, n), head axis moved forward
        return t.reshape(B, L, D // n, n).transpose(0, 3, 1, 2)
    if how == "none":                                      # (B, L, n, d_k), attended across the heads
        return t.reshape(B, L, n, D // n)
    return t.reshape(B, L, n, D // n).transpose(0, 2, 1, 3)


def _merge(t, how):
    """(B, H, L, d_k) -> (B, L, H*d_k), the inverse of ``_split`` (or no transpose)."""
    B, H, L, d_k = t.shape
    if how in ("reshape", "merge", "none"):                # "merge": right split, no transpose back
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
        heads_axis = 2 if split == "none" else 1
        k, v = np.repeat(k, group, axis=heads_axis), np.repeat(v, group, axis=heads_axis)
    scale = {"d_k": "d_k", "d_model": E, None: None}[scale]      # attend divides by sqrt(that)
    heads, weights = attend(q, k, v, mask, scale=scale, axis=axis, stable=stable, guard=guard,
                            mask_mode=mask_mode, invert=invert, values=values, fill=fill)  # (B, H, L, d_k)
    out = _merge(heads, split)
    return (out @ W_o if project else out), weights
