# mhajudge: cross-entropy
# expect-verdict: accepted
# The logsumexp trick with a one-hot matrix and a row mask.
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape
    keep = targets != ignore_index
    if ((targets < 0) | (targets >= V))[keep].any():
        raise ValueError("target out of range")
    n = keep.sum()
    if n == 0:
        return 0.0, np.zeros((N, V))
    m = logits.max(axis=1, keepdims=True)
    lse = m + np.log(np.exp(logits - m).sum(axis=1, keepdims=True))   # (N, 1)
    onehot = np.zeros((N, V))
    onehot[np.flatnonzero(keep), targets[keep]] = 1.0
    loss = ((lse[:, 0] - (onehot * logits).sum(1)) * keep).sum() / n
    grad = (np.exp(logits - lse) - onehot) * keep[:, None] / n
    return loss, grad
