# mhajudge: cross-entropy
# expect-verdict: wrong-answer
# expect-diagnosis: ce-mean-over-ignored
# Masks the ignored rows but still divides by N.
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape
    keep = targets != ignore_index
    if ((targets < 0) | (targets >= V))[keep].any():
        raise ValueError("target out of range")
    m = logits.max(axis=1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    idx = np.where(keep, targets, 0)
    loss = -(logp[np.arange(N), idx] * keep).mean()
    grad = np.exp(logp)
    grad[np.arange(N), idx] -= 1
    return loss, grad * keep[:, None] / N
