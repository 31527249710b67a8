"""The norm-backward reference agrees with PyTorch autograd.

On the judge's own cases: ``F.layer_norm`` (weight gamma, bias beta) and
``F.rms_norm`` differentiated by ``torch.autograd.grad`` on ``sum(y * d_out)``; and
the RMSNorm forward against ``F.rms_norm``. By property, on shapes and scales drawn
by hypothesis, against the same autograd graphs and against RMSNorm written out
in torch ops (not F.rms_norm). The named mistakes' backward forms are checked to
be the exact gradients of their own forward passes, so that a candidate who makes
the mistake consistently is diagnosed.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge_reference.shared.strategies import SETTINGS  # noqa: E402

REF = bank.reference_module("norm_backward")
WRONG = bank.reference_module("norm_backward", "mistakes")
CASES = [c for c in build(bank.load_problem("norm-backward"), secret="oracle")]


def t64(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def torch_layer_norm_grads(x, gamma, d_out, eps):
    x, gamma = t64(x), t64(gamma)
    beta = torch.zeros_like(gamma, requires_grad=True)
    y = F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)
    grads = torch.autograd.grad((y * torch.from_numpy(np.asarray(d_out, np.float64))).sum(), (x, gamma, beta))
    return [g.numpy() for g in grads]


def torch_rms_norm(x, weight, eps, builtin=True):
    if builtin:
        return F.rms_norm(x, (x.shape[-1],), weight, eps)
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def torch_rms_norm_grads(x, weight, d_out, eps, builtin=True):
    x, weight = t64(x), t64(weight)
    y = torch_rms_norm(x, weight, eps, builtin)
    grads = torch.autograd.grad((y * torch.from_numpy(np.asarray(d_out, np.float64))).sum(), (x, weight))
    return [g.numpy() for g in grads]


def as64(args):
    return {k: (np.asarray(v, np.float64) if isinstance(v, np.ndarray) else v) for k, v in args.items()}


def eps_of(case):
    return case.args.get("eps", {"layer_norm_backward": 1e-5}.get(case.fn, 1e-6))


def close(got, want, conditioning=1.0):
    """float64 agreement; ``conditioning`` (|x| over its spread) widens it where both sides
    lose digits to x - mean."""
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-8 * conditioning, atol=1e-11 * scale * conditioning)


def conditioning(x):
    spread = float(np.std(x, axis=-1).min()) if x.shape[-1] > 1 else 1.0
    return max(1.0, float(np.abs(x).max()) / max(spread, 1e-300))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_autograd(case):
    a, eps = as64(case.args), eps_of(case)
    if case.fn == "layer_norm_backward":
        got = REF.layer_norm_backward(**a)
        want = torch_layer_norm_grads(a["x"], a["gamma"], a["d_out"], eps)
    elif case.fn == "rms_norm":
        got = [REF.rms_norm(**a)]
        want = [torch_rms_norm(torch.from_numpy(a["x"]), torch.from_numpy(a["weight"]), eps).numpy()]
    else:
        got = REF.rms_norm_backward(**a)
        want = torch_rms_norm_grads(a["x"], a["weight"], a["d_out"], eps)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.shape(g) == w.shape
        close(g, w)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_judge_expects_the_reference(case):
    got = getattr(REF, case.fn)(**case.args)
    got = got if isinstance(got, tuple) else (got,)
    want = case.expected[0]
    assert len(want) == len(got)
    for g, name in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), want[name])


@st.composite
def norm_inputs(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))) + (draw(st.integers(2, 9)),)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1e-3, 0.1, 1.0, 30.0]))
    shift = draw(st.sampled_from([0.0, 1.0, 100.0]))
    eps = draw(st.sampled_from([1e-6, 1e-5, 0.1]))
    x = rng.standard_normal(shape) * scale + shift
    w = rng.standard_normal(shape[-1:]) * 0.5 + 1.0
    d_out = rng.standard_normal(shape)
    return x, w, d_out, eps


@SETTINGS
@given(norm_inputs())
def test_layer_norm_backward_matches_autograd_on_any_shape(inputs):
    x, gamma, d_out, eps = inputs
    for g, w in zip(REF.layer_norm_backward(x, gamma, d_out, eps), torch_layer_norm_grads(x, gamma, d_out, eps)):
        close(g, w, conditioning(x))


@SETTINGS
@given(norm_inputs())
def test_rms_norm_matches_torch_written_out_and_builtin(inputs):
    x, weight, d_out, eps = inputs
    for builtin in (True, False):
        y = torch_rms_norm(torch.from_numpy(x), torch.from_numpy(weight), eps, builtin).numpy()
        close(REF.rms_norm(x, weight, eps), y)
        for g, w in zip(REF.rms_norm_backward(x, weight, d_out, eps),
                        torch_rms_norm_grads(x, weight, d_out, eps, builtin)):
            close(g, w)


@SETTINGS
@given(norm_inputs())
def test_mistaken_rms_backward_is_the_gradient_of_its_own_forward(inputs):
    """A candidate who centres, or puts eps outside the root, in both passes is diagnosed
    through these forms: each must be the exact gradient of its forward pass."""
    x, weight, d_out, eps = inputs
    for wrong in ({"center": True}, {"eps_outside": True}):
        xt, wt = t64(x), t64(weight)
        z = xt - xt.mean(-1, keepdim=True) if wrong.get("center") else xt
        ms = z.pow(2).mean(-1, keepdim=True)
        r = 1 / (ms.sqrt() + eps) if wrong.get("eps_outside") else torch.rsqrt(ms + eps)
        y = z * r * wt
        cond = conditioning(x) if wrong.get("center") else 1.0
        close(WRONG.rms(x, weight, eps, **wrong), y.detach().numpy(), cond)
        want = torch.autograd.grad((y * torch.from_numpy(d_out)).sum(), (xt, wt))
        for g, w in zip(WRONG.rms_backward(x, weight, d_out, eps, **wrong), want):
            close(g, w.numpy(), cond)


def test_unbiased_layer_norm_backward_is_the_gradient_of_the_unbiased_norm():
    rng = np.random.default_rng(0)
    x, gamma, d_out = rng.standard_normal((3, 5)), rng.standard_normal(5) + 1, rng.standard_normal((3, 5))
    xt, gt = t64(x), t64(gamma)
    y = (xt - xt.mean(-1, keepdim=True)) / torch.sqrt(xt.var(-1, unbiased=True, keepdim=True) + 1e-5) * gt
    want = torch.autograd.grad((y * torch.from_numpy(d_out)).sum(), (xt, gt))
    for g, w in zip(WRONG.ln_backward(x, gamma, d_out, ddof=1)[:2], want):
        close(g, w.numpy())


def test_cases_cover_every_entry_point_shape_and_the_eps_regime():
    hidden = [c for c in CASES if c.group == "hidden"]
    for fn in ("layer_norm_backward", "rms_norm", "rms_norm_backward"):
        mine = [c for c in hidden if c.fn == fn]
        assert {c.args["x"].ndim for c in mine} >= ({1, 2, 3, 4} if fn != "rms_norm" else {1, 2, 3})
        assert any(c.dtype == "float32" for c in mine)
        assert any("eps" in c.args for c in mine) and any("eps" not in c.args for c in mine)
        # a case where the default eps is a sizeable part of the variance / mean square
        assert any("eps" not in c.args and float((c.args["x"].astype(np.float64) ** 2).mean()) < 1e-4 for c in mine)
