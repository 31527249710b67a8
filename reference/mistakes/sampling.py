"""The named mistakes of sampling, as samplers that draw from a wrong law.

Each mistake is the exact law of ``reference/shared/sampling_law.py`` with one knob
turned (``KNOBS``), drawn by inverse CDF from ``np.random.default_rng(seed).random()``.
Diagnosis does not run them on the distribution cases: it tests the candidate's
draws against the mistake's exact law (``match_mistake_exact`` reads the knobs
from the partial). Where the law is NaN (an unstable softmax that overflowed, or a
top-p that dropped every token) the draw is garbage, as a hand-made draw is in a
candidate's code; a candidate whose ``rng.choice`` raises ``ValueError`` there
instead is matched through ``mistake_exception``.
"""

from functools import partial

import numpy as np

from mhajudge_reference.shared.sampling_law import KNOBS, law

F = "sample_token"


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None, **knobs):
    """A sampler with the mistake ``knobs`` describe (arguments checked as in the reference)."""
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("invalid argument")
    probs = law(logits, temperature, top_k, top_p, **knobs).probs
    cdf = np.cumsum(probs)                                        # NaN everywhere if the law is NaN
    u = np.random.default_rng(seed).random()
    return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), probs.size - 1))


MISTAKES = {mistake: {F: partial(sample_token, **knobs)} for mistake, knobs in KNOBS.items()}
