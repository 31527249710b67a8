# mhajudge: speculative-decoding
# expect-verdict: wrong-answer
# Returns the tokens as floats: token ids are ints, and the answer says so.
import numpy as np


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = np.random.default_rng(seed)
    return [float(rng.choice(target_probs.shape[1], p=target_probs[0]))]
