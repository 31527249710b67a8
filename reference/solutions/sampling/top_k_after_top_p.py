# mhajudge: sampling
# expect-verdict: wrong-answer
# expect-diagnosis: top-k-after-top-p
# Nucleus first on the full distribution, then top-k.
import numpy as np


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad argument")
    logits = np.asarray(logits, dtype=float)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    if top_p is not None:
        order = np.argsort(-p)
        before = np.cumsum(p[order]) - p[order]
        p[order[before >= top_p]] = 0.0
    if top_k is not None:
        p[z < np.sort(z)[-min(top_k, z.size)]] = 0.0
    p /= p.sum()
    return int(np.random.default_rng(seed).choice(len(p), p=p))
