# mhajudge: sampling
# expect-verdict: accepted
# A correct sampler written with boolean masks and an inverse-CDF draw from rng.random().
import numpy as np


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0:
        raise ValueError("temperature must be non-negative")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be at least 1")
    if top_p is not None and (top_p <= 0 or top_p > 1):
        raise ValueError("top_p must be in (0, 1]")
    logits = np.asarray(logits, dtype=float)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    keep = np.ones(z.shape, dtype=bool)
    if top_k is not None:
        threshold = np.partition(z, -min(top_k, z.size))[-min(top_k, z.size)]
        keep &= z >= threshold
    z = np.where(keep, z, -np.inf)
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p is not None:
        idx = np.argsort(p)[::-1]
        cum = np.cumsum(p[idx])
        cutoff = int(np.searchsorted(cum, top_p)) + 1     # first index whose cum >= top_p, inclusive
        mask = np.zeros_like(keep)
        mask[idx[:cutoff]] = True
        p = np.where(mask, p, 0.0)
        p /= p.sum()
    u = np.random.default_rng(seed).random()
    cdf = np.cumsum(p)
    return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), p.size - 1))
