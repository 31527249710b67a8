# mhajudge: cross-entropy
# expect-verdict: wrong-answer
# Right everywhere except when every row is ignored: 0 / 0 gives NaN where the
# contract asks for 0.0 and a zero gradient. No named mistake explains it.
import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape
    keep = targets != ignore_index
    if ((targets < 0) | (targets >= V))[keep].any():
        raise ValueError("target out of range")
    n = keep.sum()
    m = logits.max(axis=1, keepdims=True)
    logp = logits - m - np.log(np.exp(logits - m).sum(axis=1, keepdims=True))
    idx = np.where(keep, targets, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        loss = -(logp[np.arange(N), idx] * keep).sum() / n
        grad = np.exp(logp)
        grad[np.arange(N), idx] -= 1
        return loss, grad * keep[:, None] / n
