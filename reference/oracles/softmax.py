"""The softmax reference agrees with PyTorch's softmax on the judge's own cases, and
has the properties of a softmax (checked with hypothesis): unchanged by a constant
shift of each slice, non-negative, every slice sums to 1, also for logits of
magnitude 1e4 and on any axis; a -inf logit gets exactly 0.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

torch = pytest.importorskip("torch")

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge_reference.shared.strategies import SETTINGS  # noqa: E402

REF = bank.reference_module("softmax")
CASES = [c for c in build(bank.load_problem("softmax"), secret="oracle") if c.expect == "value"]
SOFTMAX = REF.softmax


def torch_softmax(x, axis):
    return torch.softmax(torch.from_numpy(np.asarray(x, np.float64)), dim=axis).numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_torch(case):
    x = np.asarray(case.args["x"], np.float64)
    axis = case.args.get("axis", -1)
    want = torch_softmax(x, axis)
    got = REF.softmax(x, axis)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300)
    assert (got[np.isneginf(x)] == 0).all()          # a -inf logit gets exactly zero weight
    np.testing.assert_allclose(got.sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_answer_matches_torch(case):
    """What the judge compares against (the reference run in the case's dtype) is right
    to well within the case's tolerance."""
    want = torch_softmax(case.args["x"], case.args.get("axis", -1))
    got = case.expected[0]["probs"].astype(np.float64)
    tol = case.tolerance
    np.testing.assert_allclose(got, want, rtol=tol["rtol"] / 10, atol=tol["atol"] / 10)


# -- properties ------------------------------------------------------------------------------

@st.composite
def logits(draw, bound=1e4):
    """An array of any small shape with entries up to ``bound`` in magnitude, and an axis."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    x = draw(arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_nan=False)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return x, axis


@SETTINGS
@given(logits(), st.data())
def test_softmax_shift_invariance(x_axis, data):
    x, axis = x_axis
    shape = list(x.shape)
    shape[axis] = 1                                            # one constant per slice
    c = data.draw(arrays(np.float64, tuple(shape), elements=st.floats(-1e5, 1e5, allow_nan=False)))
    np.testing.assert_allclose(SOFTMAX(x + c, axis), SOFTMAX(x, axis), rtol=1e-7, atol=1e-9)


@SETTINGS
@given(logits(), st.sampled_from([1e-3, 1.0, 1e2]))
def test_softmax_is_a_distribution(x_axis, scale):
    x, axis = x_axis
    x = x * scale                                              # up to 1e6 in magnitude
    p = SOFTMAX(x, axis)
    assert p.shape == x.shape
    assert np.isfinite(p).all() and (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)
    # the largest logit of each slice gets the largest probability
    top = np.expand_dims(np.argmax(x, axis=axis), axis)
    np.testing.assert_array_equal(np.take_along_axis(p, top, axis=axis), p.max(axis=axis, keepdims=True))


@SETTINGS
@given(logits(), st.data())
def test_softmax_minus_inf_gets_zero(x_axis, data):
    x, axis = x_axis
    blocked = data.draw(arrays(bool, x.shape))
    keep = np.expand_dims(np.argmax(x, axis=axis), axis)      # every slice keeps one finite logit
    np.put_along_axis(blocked, keep, False, axis=axis)
    x = np.where(blocked, -np.inf, x)
    p = SOFTMAX(x, axis)
    assert (p[blocked] == 0).all()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
ORACLE = {"softmax": lambda x, axis=-1: torch_softmax(x, axis)}
