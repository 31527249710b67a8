"""The mha-backward reference agrees with PyTorch autograd and with finite differences.

Two independent oracles on every case the judge uses: autograd through the same
forward pass written in PyTorch, and central finite differences of the reference's
own loss ``sum(output * d_out)`` for every element of every input.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402

REF = bank.reference_module("mha_backward")
CASES = build(bank.load_problem("mha-backward"), secret="oracle")
PARAMS = ("x", "W_q", "W_k", "W_v", "W_o")


def float64_args(case):
    return {k: (v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
            for k, v in case.args.items()}


def torch_grads(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    """Output and gradients by autograd; a fully masked row gets zero weights (our convention)."""
    leaves = {n: torch.tensor(a, dtype=torch.float64, requires_grad=True)
              for n, a in zip(PARAMS, (x, W_q, W_k, W_v, W_o))}
    B, L, E = x.shape
    H = num_heads
    split = lambda a: a.reshape(B, L, H, E // H).transpose(1, 2)  # noqa: E731
    xt = leaves["x"]
    q, k, v = split(xt @ leaves["W_q"]), split(xt @ leaves["W_k"]), split(xt @ leaves["W_v"])
    s = q @ k.transpose(-1, -2) / (E // H) ** 0.5
    keep = torch.ones(s.shape, dtype=torch.bool)
    if mask is not None:
        keep = torch.from_numpy(np.broadcast_to(np.asarray(mask) != 0, s.shape).copy())
    any_key = keep.any(-1, keepdim=True)
    # -inf where masked, but 0 on a fully masked row (then zeroed) so no NaN reaches autograd
    s = torch.where(keep, s, torch.where(any_key, torch.tensor(float("-inf"), dtype=s.dtype), torch.zeros_like(s)))
    a = torch.softmax(s, dim=-1) * any_key
    out = (a @ v).transpose(1, 2).reshape(B, L, E) @ leaves["W_o"]
    (out * torch.from_numpy(d_out)).sum().backward()
    return out.detach().numpy(), {n: t.grad.numpy() for n, t in leaves.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_autograd(case):
    args = float64_args(case)
    out, grads = REF.mha_forward_backward(**args)
    t_out, t_grads = torch_grads(**args)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    for name in PARAMS:
        np.testing.assert_allclose(grads[name], t_grads[name], rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_judge_expects_the_reference(case):
    """What the judge compares with (in the case's dtype) is the reference's answer."""
    want = case.expected[0]
    out, grads = REF.mha_forward_backward(**float64_args(case))
    tol = dict(rtol=1e-12, atol=1e-12) if case.dtype == "float64" else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(want["output"], out, **tol)
    for name in PARAMS:
        np.testing.assert_allclose(want[f"grad_{name}"], grads[name], err_msg=name, **tol)


@pytest.mark.parametrize("case", [c for c in CASES if c.dtype == "float64"], ids=lambda c: c.name)
def test_reference_matches_central_differences(case):
    args = float64_args(case)
    _, grads = REF.mha_forward_backward(**args)
    h = 1e-6

    def loss(**changed):
        out, _ = REF.mha_forward_backward(**{**args, **changed})
        return float((out * args["d_out"]).sum())

    for name in PARAMS:
        base = args[name]
        numeric = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += h
            minus[idx] -= h
            numeric[idx] = (loss(**{name: plus}) - loss(**{name: minus})) / (2 * h)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-6, err_msg=name)


def test_cases_include_masks_and_a_fully_masked_row():
    hidden = [c for c in CASES if c.group == "hidden"]
    masked = [c for c in hidden if c.args.get("mask") is not None]
    assert len(masked) >= 5
    full_row = [c for c in masked if not np.broadcast_to(np.asarray(c.args["mask"]) != 0,
                                                        (c.args["x"].shape[0], c.args["num_heads"],
                                                         c.args["x"].shape[1], c.args["x"].shape[1])).any(-1).all()]
    assert full_row, "no case has a fully masked query row"


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
def _oracle_grads(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    as64 = [np.asarray(a, np.float64) for a in (x, W_q, W_k, W_v, W_o, d_out)]
    return torch_grads(*as64[:5], num_heads, as64[5], mask)


ORACLE = {"mha_forward_backward": _oracle_grads}
