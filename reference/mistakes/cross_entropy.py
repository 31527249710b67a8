"""The named mistakes of cross-entropy, as code.

``ce`` is the right computation with one keyword naming what goes wrong; every
form validates the targets as the contract asks, so it differs from the
right answer in that one thing only.
"""

from functools import partial

import numpy as np

F = "cross_entropy"


def ce(logits, targets, ignore_index=-100, *, stable=True, log_of="softmax-shifted", divide="kept",
       grad_divide="kept"):
    """``stable=False`` with ``log_of``: "softmax" (exp of the raw logits: overflow, NaN) or
    "softmax-shifted" (max subtracted, then log of the probabilities: log(0) = -inf);
    ``divide`` / ``grad_divide``: "kept" (right), "all" (every row, ignored ones too), "none"."""
    N, V = logits.shape
    targets = np.asarray(targets)
    keep = targets != ignore_index
    if np.any((targets[keep] < 0) | (targets[keep] >= V)):
        raise ValueError("target out of range")
    count = int(keep.sum())
    if count == 0 and divide == "kept":
        return 0.0, np.zeros_like(logits)
    rows, safe = np.arange(N), np.where(keep, targets, 0)
    if stable:
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        probs = np.exp(log_probs)
    else:
        z = logits if log_of == "softmax" else logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
        log_probs = np.log(probs)
    per_row = np.where(keep, -log_probs[rows, safe], 0.0)           # an ignored row adds 0, even at -inf
    by = {"kept": count, "all": N, "none": 1}
    loss = per_row.sum() / by[divide]
    d = probs.copy()
    d[rows, safe] -= 1.0
    d = d * keep[:, None] / by[grad_divide]
    return float(loss), d


MISTAKES = {
    "ce-unstable": {F: [partial(ce, stable=False, log_of="softmax"),
                        partial(ce, stable=False, log_of="softmax-shifted")]},
    "ce-mean-over-ignored": {F: [partial(ce, divide="all", grad_divide="all"),
                                 partial(ce, divide="all")]},
    "ce-grad-not-averaged": {F: partial(ce, grad_divide="none")},
}

ACCEPTED = {}
