"""The cross-entropy reference agrees with ``F.cross_entropy`` and its autograd gradient.

On the judge's own cases (mean reduction, the case's ``ignore_index``), except where
every row is ignored: there torch's mean is 0/0 = NaN, and the contract asks for 0.0
and a zero gradient instead. By property, on logits of every scale up to 1e4 and
random ignored rows. The invalid-target cases are checked to be invalid for torch too.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge_reference.shared.strategies import SETTINGS  # noqa: E402

REF = bank.reference_module("cross_entropy")
CASES = build(bank.load_problem("cross-entropy"), secret="oracle")
VALID = [c for c in CASES if c.expect == "value"]


def torch_ce(logits, targets, ignore_index=-100):
    x = torch.tensor(np.asarray(logits, np.float64), requires_grad=True)
    loss = F.cross_entropy(x, torch.from_numpy(np.asarray(targets, np.int64)), ignore_index=ignore_index)
    (grad,) = torch.autograd.grad(loss, x)
    return float(loss.detach()), grad.numpy()


def check(logits, targets, ignore_index=-100):
    loss, d = REF.cross_entropy(np.asarray(logits, np.float64), targets, ignore_index)
    assert np.shape(loss) == () and d.shape == np.shape(logits)
    if not (np.asarray(targets) != ignore_index).any():
        assert loss == 0.0 and not d.any()
        assert np.isnan(torch_ce(logits, targets, ignore_index)[0])     # why the contract fixes this case
        return
    t_loss, t_d = torch_ce(logits, targets, ignore_index)
    np.testing.assert_allclose(loss, t_loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d, t_d, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.name)
def test_reference_matches_torch(case):
    check(case.args["logits"], case.args["targets"], case.args.get("ignore_index", -100))


@pytest.mark.parametrize("case", [c for c in CASES if c.expect == "ValueError"], ids=lambda c: c.name)
def test_invalid_targets_are_invalid_for_torch_too(case):
    with pytest.raises(ValueError):
        REF.cross_entropy(**case.args)
    with pytest.raises((IndexError, RuntimeError)):
        torch_ce(case.args["logits"], case.args["targets"], case.args.get("ignore_index", -100))


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.name)
def test_judge_expects_the_reference(case):
    loss, d = REF.cross_entropy(**case.args)
    np.testing.assert_array_equal(case.expected[0]["loss"], loss)
    np.testing.assert_array_equal(case.expected[0]["dlogits"], d)


@st.composite
def batches(draw):
    N, V = draw(st.integers(1, 12)), draw(st.integers(1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0, 1e4]))
    shift = draw(st.sampled_from([0.0, -50.0, 1e4]))
    ignore_index = draw(st.sampled_from([-100, -1, 0]))
    targets = rng.integers(0, V, N)
    if ignore_index >= 0:
        targets = np.where(targets == ignore_index, (ignore_index + 1) % V, targets)
    targets = np.where(rng.random(N) < draw(st.sampled_from([0.0, 0.3, 1.0])), ignore_index, targets)
    return rng.standard_normal((N, V)) * scale + shift, targets, ignore_index


@SETTINGS
@given(batches())
def test_reference_matches_torch_on_any_batch(batch):
    check(*batch)


def test_cases_cover_the_hard_parts():
    hidden = [c for c in VALID if c.group == "hidden"]
    assert max(float(np.abs(c.args["logits"]).max()) for c in hidden) >= 1e4
    assert any(not (c.args["targets"] != c.args.get("ignore_index", -100)).any() for c in hidden)
    assert any(c.args.get("ignore_index", -100) == 0 and (c.args["targets"] == 0).any() for c in hidden)
    assert any(c.dtype == "float32" for c in hidden)
