# mhajudge: speculative-decoding
# expect-verdict: wrong-answer
# expect-diagnosis: spec-ratio-inverted
import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = np.random.default_rng(seed)
    out = []
    for i, x in enumerate(draft_tokens):
        p, q = target_probs[i], draft_probs[i]
        if rng.random() < min(1.0, q[x] / max(p[x], 1e-300)):
            out.append(int(x))
            continue
        r = np.maximum(p - q, 0)
        out.append(int(rng.choice(len(r), p=r / r.sum())))
        return out
    out.append(int(rng.choice(target_probs.shape[1], p=target_probs[-1])))
    return out
