"""check.matches, diagnosis's fast yes-or-no, decides exactly as check_answer(...).ok.

Diagnosis asks "is this answer that mistake's?" hundreds of times per wrong submission;
check_answer builds a message for every mismatch, most of grading's time in the judge
(measured on 20 sdpa submissions: 10,370 compare_leaf calls, 35 ms a submission). The
fast path must never disagree, on any dtype, shape, NaN, inf or tolerance edge.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mhajudge.check import check_answer, leaf_matches, matches

SPECIAL = st.sampled_from([0.0, -0.0, 1.0, 1e-9, -1e-9, 1e308, -1e308, float("nan"), float("inf"), float("-inf")])
FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), SPECIAL)


def _near(a: np.ndarray, draw) -> np.ndarray:
    """``a`` with a few entries moved by about a tolerance, or made non-finite."""
    b = a.astype(np.float64, copy=True)
    for _ in range(draw(st.integers(0, 3))):
        if b.size:
            i = draw(st.integers(0, b.size - 1))
            b.flat[i] = draw(st.one_of(SPECIAL, st.floats(-1e-6, 1e-6).map(lambda e, v=b.flat[i]: v + e)))
    return b


@st.composite
def pairs(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    want_kind = draw(st.sampled_from(["f8", "f4", "i8", "bool"]))
    if want_kind == "bool":
        want = draw(hnp.arrays(np.bool_, shape))
    elif want_kind == "i8":
        want = draw(hnp.arrays(np.int64, shape, elements=st.integers(-5, 5)))
    else:
        want = draw(hnp.arrays(np.dtype(want_kind), shape, elements=FLOATS if want_kind == "f8" else
                               st.floats(width=32, allow_nan=True, allow_infinity=True)))
    how = draw(st.sampled_from(["copy", "near", "other shape", "int", "bool", "f4", "random"]))
    if how == "copy":
        got = want.copy()
    elif how == "near":
        got = _near(want, draw)
    elif how == "other shape":
        got = np.zeros(shape + (1,))
    elif how == "int":
        got = np.asarray(want).astype(np.float64).round().clip(-9, 9).astype(np.int64) if want.dtype.kind == "f" \
            and np.isfinite(want).all() else np.zeros(shape, dtype=np.int64)
    elif how == "bool":
        got = np.asarray(want).astype(bool) if want.dtype.kind != "f" or np.isfinite(want).all() \
            else np.zeros(shape, bool)
    elif how == "f4":
        with np.errstate(all="ignore"):
            got = np.asarray(want).astype(np.float32)
    else:
        got = draw(hnp.arrays(np.float64, shape, elements=FLOATS))
    tol = draw(st.sampled_from([(0.0, 0.0), (1e-8, 1e-6), (1e-5, 1e-5), (1.0, 0.0), (0.0, 1.0)]))
    return np.asarray(got), np.asarray(want), tol


@settings(max_examples=600, deadline=None)
@given(pairs())
def test_leaf_matches_decides_as_compare_leaf(pair):
    got, want, (atol, rtol) = pair
    with np.errstate(all="ignore"):
        slow = check_answer({"x": got}, [{"x": want}], atol, rtol).ok
        assert leaf_matches(got, want, atol, rtol) == slow
        assert matches({"x": got}, [{"x": want}], atol, rtol) == slow


def test_matches_needs_every_leaf_and_takes_any_alternative():
    a, b = np.ones(3), np.zeros(3)
    assert matches({"o": a, "w": b}, [{"o": b}, {"o": a, "w": b}], 1e-9, 1e-9)
    assert not matches({"o": a}, [{"o": a, "w": b}], 1e-9, 1e-9)  # a leaf missing
    assert not matches({"o": a, "w": a}, [{"o": a, "w": b}], 1e-9, 1e-9)
    nan = np.array([np.nan, 1.0])
    assert matches({"o": nan}, [{"o": nan.copy()}], 0, 0)  # NaN where expected
    assert not matches({"o": nan}, [{"o": np.array([0.0, 1.0])}], 0, 0)
    assert not matches({"o": np.array([np.inf])}, [{"o": np.array([-np.inf])}], 1, 1)
