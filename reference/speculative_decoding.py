"""Speculative decoding's acceptance step: the output is distributed exactly as the target's."""

import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = np.random.default_rng(seed)
    q = np.asarray(draft_probs, dtype=np.float64)       # (k, V)
    p = np.asarray(target_probs, dtype=np.float64)      # (k + 1, V)
    k, V = q.shape
    tokens = []
    for i in range(k):
        x = int(draft_tokens[i])
        if rng.random() < min(1.0, p[i, x] / q[i, x]):  # accept with probability min(1, p/q)
            tokens.append(x)
            continue
        residual = np.maximum(p[i] - q[i], 0.0)          # (V,) what p has that q lacks
        tokens.append(int(rng.choice(V, p=residual / residual.sum())))
        return tokens
    tokens.append(int(rng.choice(V, p=p[k])))           # every draft accepted: a bonus token
    return tokens
