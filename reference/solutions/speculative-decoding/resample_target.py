# mhajudge: speculative-decoding
# expect-verdict: wrong-answer
# expect-diagnosis: spec-resample-target
import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = np.random.default_rng(seed)
    V = target_probs.shape[1]
    out = []
    for i, x in enumerate(draft_tokens):
        if rng.random() < target_probs[i, x] / draft_probs[i, x]:
            out.append(int(x))
        else:
            out.append(int(rng.choice(V, p=target_probs[i])))
            return out
    out.append(int(rng.choice(V, p=target_probs[-1])))
    return out
