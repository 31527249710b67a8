# mhajudge: speculative-decoding
# expect-verdict: wrong-answer
# Hostile-ish: returns the rejected draft token too, then the replacement (an impossible output), as a NumPy array.
import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = np.random.default_rng(seed)
    out = []
    for i, x in enumerate(draft_tokens):
        out.append(int(x))
        if rng.random() >= min(1, target_probs[i, x] / draft_probs[i, x]):
            r = np.maximum(target_probs[i] - draft_probs[i], 0)
            out.append(int(rng.choice(len(r), p=r / r.sum())))
            return np.array(out)
    out.append(int(rng.choice(target_probs.shape[1], p=target_probs[-1])))
    return np.array(out)
