"""Hypothesis strategies and settings that more than one problem's oracle tests use.

For ``reference/oracles/`` only (it imports hypothesis, a test dependency); the judge
never imports it.
"""

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, deadline=None)   # for every property test
CLOSE = dict(rtol=1e-9, atol=1e-12)                   # float64 results that must agree

@st.composite
def unbatched(draw, heads=True):
    L, H, d_k = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if not heads:
        H = 1
    scale = draw(st.sampled_from([0.3, 1.0, 30.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    Q, K, V = (rng.standard_normal((L, H * d_k)) * s for s in (scale, scale, 1.0))
    return Q, K, V, H, rng
