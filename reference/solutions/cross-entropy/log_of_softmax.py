# mhajudge: cross-entropy
# expect-verdict: wrong-answer
# expect-diagnosis: ce-unstable
# A stable softmax, then np.log of it: a probability of exp(-1e4) is 0 and its log -inf.
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape
    keep = targets != ignore_index
    if ((targets < 0) | (targets >= V))[keep].any():
        raise ValueError("target out of range")
    n = keep.sum()
    if n == 0:
        return 0.0, np.zeros_like(logits)
    p = softmax(logits)
    rows = np.arange(N)[keep]
    loss = -np.log(p[rows, targets[keep]]).sum() / n
    grad = p * keep[:, None]
    grad[rows, targets[keep]] -= 1
    return loss, grad / n
