# mhajudge: cross-entropy
# expect-verdict: wrong-answer
# expect-diagnosis: ce-unstable
# The textbook formula read literally: exp of raw logits overflows at 1e4.
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape
    keep = targets != ignore_index
    if ((targets < 0) | (targets >= V))[keep].any():
        raise ValueError("target out of range")
    n = keep.sum()
    if n == 0:
        return 0.0, np.zeros_like(logits)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    idx = np.where(keep, targets, 0)
    loss = -(np.log(probs[np.arange(N), idx]) * keep).sum() / n
    grad = probs.copy()
    grad[np.arange(N), idx] -= 1
    return loss, grad * keep[:, None] / n
