# mhajudge: cross-entropy
# expect-verdict: wrong-answer
# Never checks the targets: a target of V raises IndexError, and a negative one
# that is not ignore_index silently indexes from the end, instead of ValueError.
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape
    keep = targets != ignore_index
    n = keep.sum()
    if n == 0:
        return 0.0, np.zeros_like(logits)
    m = logits.max(axis=1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    idx = np.where(keep, targets, 0)
    loss = -logp[np.arange(N), idx][keep].sum() / n
    grad = np.exp(logp)
    grad[np.arange(N), idx] -= 1
    return loss, grad * keep[:, None] / n
