# mhajudge: sampling
# expect-verdict: wrong-answer
# expect-diagnosis: filters-before-temperature
# The nucleus chosen from softmax(logits), the temperature applied only to the draw.
import numpy as np


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad argument")
    logits = np.asarray(logits, dtype=float)
    if temperature == 0:
        return int(np.argmax(logits))
    keep = np.ones(logits.size, dtype=bool)
    if top_k is not None:
        keep &= logits >= np.sort(logits)[-min(top_k, logits.size)]
    if top_p is not None:
        p = softmax(np.where(keep, logits, -np.inf))
        order = np.argsort(-p, kind="stable")
        before = np.cumsum(p[order]) - p[order]
        nucleus = np.zeros_like(keep)
        nucleus[order[before < top_p]] = True
        keep &= nucleus
    p = softmax(np.where(keep, logits / temperature, -np.inf))
    u = np.random.default_rng(seed).random()
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), p.size - 1))
