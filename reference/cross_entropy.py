"""Softmax cross-entropy over a batch of rows, and its gradient.

    loss    = mean over kept rows n of  logsumexp(logits_n) - logits_n[target_n]
    dlogits = (softmax(logits_n) - onehot(target_n)) / count   on kept rows, 0 on ignored ones

A row is ignored when its target is ``ignore_index``. The log-softmax is computed
from logits minus their row maximum, so logits of 1e4 neither overflow nor give
log(0).
"""

import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape                                              # logits (N, V)
    targets = np.asarray(targets)                                    # (N,) ints
    keep = targets != ignore_index                                   # (N,) rows that count
    if np.any((targets[keep] < 0) | (targets[keep] >= V)):
        raise ValueError(f"targets must be in [0, {V}) or ignore_index={ignore_index}")
    count = int(keep.sum())
    if count == 0:                                                   # every row ignored
        return 0.0, np.zeros_like(logits)

    shifted = logits - logits.max(axis=1, keepdims=True)             # (N, V), each row's max is 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))   # (N, V)
    rows = np.arange(N)
    safe = np.where(keep, targets, 0)                                # (N,) an index for ignored rows too
    loss = -log_probs[rows, safe][keep].sum() / count

    dlogits = np.exp(log_probs)                                      # (N, V) softmax
    dlogits[rows, safe] -= 1.0                                       # minus the one-hot target
    dlogits *= keep[:, None] / count                                 # ignored rows get 0
    return float(loss), dlogits
