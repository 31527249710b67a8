"""The named mistakes of sdpa, as code, and the accepted -1e9 convention."""

import math
from functools import partial

import numpy as np

F = "scaled_dot_product_attention"


def attention(Q, K, V, mask=None, *, scale=True, axis=-1, stable=True, mask_mode="before",
              invert=False, values=True, fill=-np.inf):
    """Attention with one thing done wrong (or a different fill when ``fill`` is finite)."""
    scores = Q @ np.swapaxes(K, -1, -2)
    if scale:
        scores = scores / math.sqrt(Q.shape[-1])
    keep = None
    if mask is not None:
        keep = np.broadcast_to(np.asarray(mask).astype(bool), scores.shape)
        keep = ~keep if invert else keep
        if mask_mode == "before":
            scores = np.where(keep, scores, fill)
    if stable:
        m = scores.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        e = np.exp(scores - m)
    else:
        e = np.exp(scores)
    total = e.sum(axis=axis, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0) if stable else e / total
    if keep is not None and mask_mode == "after":
        weights = weights * keep
    return weights @ (V if values else K), weights


def both_fills(**wrong):
    """The mistake as written with a -inf fill and with a -1e9 fill."""
    return [partial(attention, **wrong), partial(attention, fill=-1e9, **wrong)]


MISTAKES = {
    "no-scale": {F: both_fills(scale=False)},
    "softmax-wrong-axis": {F: both_fills(axis=-2)},
    "unstable-softmax": {F: both_fills(stable=False)},
    "mask-after-softmax": {F: both_fills(mask_mode="after")},
    "mask-inverted": {F: both_fills(invert=True)},
    "weights-times-keys": {F: both_fills(values=False)},
}

# A fully masked row may also give uniform weights, as a -1e9 fill does.
ACCEPTED = {F: [partial(attention, fill=-1e9)]}
