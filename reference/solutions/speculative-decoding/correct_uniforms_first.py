# mhajudge: speculative-decoding
# expect-verdict: accepted
# Correct, another order of draws: all k uniforms first, then one inverse-CDF draw (pure NumPy, no rng.choice).
import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = np.random.default_rng(seed)
    q, p = np.asarray(draft_probs), np.asarray(target_probs)
    k = len(draft_tokens)
    u = rng.random(k)
    x = np.asarray(draft_tokens)
    ratio = p[np.arange(k), x] / q[np.arange(k), x]
    rejected = np.flatnonzero(u >= np.minimum(1.0, ratio))
    if rejected.size:
        i = int(rejected[0])
        dist = np.clip(p[i] - q[i], 0, None)
    else:
        i = k
        dist = p[k]
    cdf = np.cumsum(dist / dist.sum())
    y = int(min(np.searchsorted(cdf, rng.random(), side="right"), len(cdf) - 1))
    return [int(t) for t in x[:i]] + [y]
