"""Attention with one thing done wrong: the core of the named mistakes of sdpa,
mha-qkv, mha-batched, mha-projected, mha-masked and gqa.

``attend`` is attention over the last two axes; ``split``/``merge``/``heads`` add
heads (split the right way or a classic wrong way); ``projected`` is mha-projected's
entry point. Every keyword names one mistake, so a mistake is a ``partial`` with one
keyword set.

Each mistake is a list of forms, so that a candidate is diagnosed whichever way they
mask (``MASK_STYLES``), split heads (``HEAD_SPLITS``) or round (``both_precisions``).
"""

import math
from functools import partial
from itertools import product

import numpy as np

# How candidates mask: replace with -inf (with or without a guard for rows where
# every key is masked, which otherwise give NaN), replace with -1e9, or add -1e9.
MASK_STYLES = [dict(fill=-np.inf), dict(fill=-np.inf, guard=False), dict(fill=-1e9),
               dict(fill=-1e9, mask_mode="add")]
# How heads get split and merged: contiguous chunks (right), or a reshape that forgets
# the transpose, either straight to (H, L, d_k) or to (L, d_k, H); merged back by the
# inverse of that reshape or by the right merge. Or (L, H, d_k) attended as it is, with
# no transpose at all: attention then runs across the heads of each position. Or split
# right and merged with no transpose back (the heads' outputs scrambled across positions).
HEAD_SPLITS = [dict(split_how=s, merge_how=m) for s, m in
               product(("no-transpose", "strided"), ("inverse", "contiguous"))] + [
    dict(split_how="heads-last"), dict(split_how="contiguous", merge_how="no-transpose")]


def attend(q, k, v, mask=None, *, scale="d_k", axis=-1, stable=True, guard=True, mask_mode="before",
           invert=False, values=True, fill=-np.inf):
    """Attention over the last two axes with one thing done wrong.

    ``scale``: "d_k" (right), None (no scaling) or a number d (divide by sqrt(d)).
    ``mask_mode``: "before" (fill the scores), "add" (add ``fill`` where masked),
    "after" (multiply the probabilities by the mask), "add-raw" (add the 0/1 mask itself).
    ``axis=None``: the softmax normalised over the whole array.
    """
    scores = q @ np.swapaxes(k, -1, -2)                                  # (..., Lq, Lk)
    if scale is not None:
        scores = scores / math.sqrt(q.shape[-1] if scale == "d_k" else scale)
    keep = None
    if mask is not None:
        keep = np.broadcast_to(np.asarray(mask).astype(bool), scores.shape)
        keep = ~keep if invert else keep
        if mask_mode == "before":
            scores = np.where(keep, scores, fill)
        elif mask_mode == "add":
            scores = scores + np.where(keep, 0.0, fill)
        elif mask_mode == "add-raw":                                     # the 0/1 mask itself added
            scores = scores + np.broadcast_to(np.asarray(mask, dtype=scores.dtype), scores.shape)
    if stable:
        m = scores.max(axis=axis, keepdims=True)
        if guard:
            m = np.where(np.isfinite(m), m, 0.0)
        e = np.exp(scores - m)
    else:
        e = np.exp(scores)
    total = e.sum(axis=axis, keepdims=True)
    if stable and guard:
        weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    else:
        weights = e / total
    if keep is not None and mask_mode == "after":
        weights = weights * keep
    return weights @ (v if values else k), weights


def split(x, num_heads, how="contiguous"):
    """(..., L, E) -> (..., H, L, d_k)."""
    *lead, L, E = x.shape
    d_k = E // num_heads
    if how == "contiguous":
        return np.swapaxes(x.reshape(*lead, L, num_heads, d_k), -2, -3)
    if how == "no-transpose":
        return x.reshape(*lead, num_heads, L, d_k)
    if how == "strided":
        return np.moveaxis(x.reshape(*lead, L, d_k, num_heads), -1, -3)
    if how == "heads-last":                                              # (..., L, H, d_k), never transposed
        return x.reshape(*lead, L, num_heads, d_k)
    raise ValueError(how)


def merge(x, how="contiguous"):
    """(..., H, L, d_k) -> (..., L, E)."""
    *lead, H, L, d_k = x.shape
    if how == "heads-last":                                              # x is (..., L, H, d_k)
        return x.reshape(*lead, H, L * d_k)
    if how == "contiguous":
        return np.swapaxes(x, -2, -3).reshape(*lead, L, H * d_k)
    if how == "no-transpose":
        return x.reshape(*lead, L, H * d_k)
    if how == "strided":
        return np.moveaxis(x, -3, -1).reshape(*lead, L, H * d_k)
    raise ValueError(how)


def heads(q, k, v, num_heads, mask=None, *, split_how="contiguous", merge_how="inverse",
          scale="d_k", **wrong):
    """Multi-head attention of projected (..., L, E) inputs: (concat (..., Lq, E), weights)."""
    if merge_how == "inverse":
        merge_how = split_how
    if scale == "d_model":
        scale = q.shape[-1]
    qh, kh, vh = (split(x, num_heads, split_how) for x in (q, k, v))   # (..., H, L, d_k)
    out, weights = attend(qh, kh, vh, mask, scale=scale, **wrong)      # (..., H, Lq, d_k)
    return merge(out, merge_how), weights


def projected(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None, *, project_out=True,
              transpose=(), **wrong):
    """mha-projected with one thing wrong; ``transpose`` names the weights used as W.T."""
    W = {name: (w.T if name in transpose else w)
         for name, w in (("W_q", W_q), ("W_k", W_k), ("W_v", W_v), ("W_o", W_o))}
    concat, weights = heads(query @ W["W_q"], key @ W["W_k"], value @ W["W_v"], num_heads, mask, **wrong)
    return (concat @ W["W_o"] if project_out else concat), weights


def forms(fn, variants=(dict(),), styles=MASK_STYLES, **wrong):
    """The mistake under every masking style and every listed variant."""
    return [partial(fn, **style, **variant, **wrong) for style in styles for variant in variants]


def in_float64(fn):
    """The mistake computed in float64 on a float32 case, as a candidate's code does after
    any float64 value (np.sqrt(d_k) is one) enters the arithmetic. It matters for overflow:
    exp() overflows above ~88 in float32 but only above ~709 in float64."""
    def up(a):
        return a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a

    def wrapped(*args, **kwargs):
        return fn(*map(up, args), **{k: up(v) for k, v in kwargs.items()})
    return wrapped


def both_precisions(fns):
    return list(fns) + [in_float64(f) for f in fns]


TRANSPOSED = [dict(transpose=("W_q", "W_k", "W_v", "W_o")), dict(transpose=("W_q", "W_k", "W_v"))]
