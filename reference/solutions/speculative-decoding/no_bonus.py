# mhajudge: speculative-decoding
# expect-verdict: wrong-answer
# expect-diagnosis: spec-no-bonus
import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = np.random.default_rng(seed)
    out = []
    for i, x in enumerate(draft_tokens):
        if rng.random() < min(1, target_probs[i, x] / draft_probs[i, x]):
            out.append(int(x))
        else:
            r = np.maximum(target_probs[i] - draft_probs[i], 0)
            out.append(int(rng.choice(len(r), p=r / r.sum())))
            break
    return out
