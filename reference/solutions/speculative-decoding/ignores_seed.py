# mhajudge: speculative-decoding
# expect-verdict: wrong-answer
# Draws from the global NumPy generator: right law, but the same seed does not give the same tokens.
import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    out = []
    for i, x in enumerate(draft_tokens):
        if np.random.random() < min(1, target_probs[i, x] / draft_probs[i, x]):
            out.append(int(x))
        else:
            r = np.maximum(target_probs[i] - draft_probs[i], 0)
            out.append(int(np.random.choice(len(r), p=r / r.sum())))
            return out
    out.append(int(np.random.choice(target_probs.shape[1], p=target_probs[-1])))
    return out
