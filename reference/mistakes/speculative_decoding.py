"""The named mistakes of speculative-decoding: the acceptance procedure with one knob turned.

Each is a ``functools.partial`` of :func:`speculative_accept` with the knobs of
``reference/shared/speculative_law.py``; diagnosis does not run them on the
statistical cases but tests the candidate's draws against the mistake's exact law
(``match_mistake_exact`` reads the knobs from the partial).
"""

from functools import partial

import numpy as np

from mhajudge_reference.shared.speculative_law import KNOBS, acceptance, resample

F = "speculative_accept"


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None, ratio="p/q",
                       resample_from="residual", bonus=True):
    rng = np.random.default_rng(seed)
    q, p = np.asarray(draft_probs, dtype=np.float64), np.asarray(target_probs, dtype=np.float64)
    k, V = q.shape
    tokens = []
    for i in range(k):
        x = int(draft_tokens[i])
        if rng.random() < acceptance(p[i, x], q[i, x], ratio):
            tokens.append(x)
            continue
        tokens.append(int(rng.choice(V, p=resample(p[i], q[i], resample_from))))
        return tokens
    if bonus:
        tokens.append(int(rng.choice(V, p=p[k])))
    return tokens


MISTAKES = {mistake: {F: partial(speculative_accept, **knobs)} for mistake, knobs in KNOBS.items()}
