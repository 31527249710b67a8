"""The mha-qkv reference agrees with PyTorch on the judge's own cases, function by function.

``compute_qkv`` against ``F.linear`` (which computes ``x @ W.T``, so it gets ``W.T``);
``self_attention`` against ``F.scaled_dot_product_attention``; ``multi_head_attention``
against ``F.scaled_dot_product_attention`` on heads split by torch and against
``torch.nn.MultiheadAttention`` with identity projections (the inputs are already
projected and there is no output projection).

Properties (hypothesis): permuting the queries permutes the outputs, permuting the
keys and values together leaves them unchanged; one head of ``multi_head_attention``
is ``self_attention``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge_reference.shared.strategies import CLOSE, SETTINGS, unbatched  # noqa: E402

REF = bank.reference_module("mha_qkv")
CASES = build(bank.load_problem("mha-qkv"), secret="oracle")


def t(a):
    return torch.from_numpy(np.asarray(a, np.float64))


def as_float64(args):
    return {k: (v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
            for k, v in args.items()}


def torch_compute_qkv(X, W_q, W_k, W_v):
    return tuple(F.linear(t(X), t(W).T).numpy() for W in (W_q, W_k, W_v))


def torch_self_attention(Q, K, V):
    return F.scaled_dot_product_attention(t(Q)[None], t(K)[None], t(V)[None])[0].numpy()


def torch_heads(Q, K, V, n_heads):
    L, D = Q.shape
    heads = lambda x: t(x).view(L, n_heads, D // n_heads).transpose(0, 1)     # (H, L, d_k)
    out = F.scaled_dot_product_attention(heads(Q), heads(K), heads(V))
    return out.transpose(0, 1).reshape(L, D).numpy()


def torch_mha_identity(Q, K, V, n_heads):
    D = Q.shape[1]
    mha = torch.nn.MultiheadAttention(D, n_heads, bias=False, dtype=torch.float64)
    eye = torch.eye(D, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([eye, eye, eye]))
        mha.out_proj.weight.copy_(eye)
        out, _ = mha(t(Q), t(K), t(V), need_weights=False)                   # unbatched (L, D)
    return out.numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_torch(case):
    args = as_float64(case.args)
    got = getattr(REF, case.fn)(**args)
    if case.fn == "compute_qkv":
        for mine, theirs in zip(got, torch_compute_qkv(**args)):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    elif case.fn == "self_attention":
        np.testing.assert_allclose(got, torch_self_attention(**args), rtol=1e-9, atol=1e-10)
    else:
        np.testing.assert_allclose(got, torch_heads(**args), rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(got, torch_mha_identity(**args), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_answer_matches_torch(case):
    """The judge's expected answer (the reference in the case's own dtype) is right
    to well within the case's tolerance."""
    args = as_float64(case.args)
    oracle = {"compute_qkv": torch_compute_qkv, "self_attention": torch_self_attention,
              "multi_head_attention": torch_heads}[case.fn]
    want = oracle(**args)
    want = want if isinstance(want, tuple) else (want,)
    tol = case.tolerance
    for got, w in zip(case.expected[0].values(), want):
        np.testing.assert_allclose(got.astype(np.float64), w, rtol=tol["rtol"] / 10, atol=tol["atol"] / 10)


def test_worked_example_is_a_sample():
    X = np.array([[1.0, 2, 3, 4], [5, 6, 7, 8]])
    samples = [c for c in CASES if c.group == "sample"]
    qkv = [c for c in samples if c.fn == "compute_qkv"]
    mha = [c for c in samples if c.fn == "multi_head_attention"]
    assert any(np.array_equal(c.args["X"], X) and all(np.array_equal(c.args[w], np.eye(4)) for w in ("W_q", "W_k", "W_v"))
               for c in qkv)
    assert any(all(np.array_equal(c.args[m], X) for m in "QKV") and c.args["n_heads"] == 2 for c in mha)
    assert {c.fn for c in CASES if c.group == "hidden"} == {"compute_qkv", "self_attention", "multi_head_attention"}


# -- properties ------------------------------------------------------------------------------

@SETTINGS
@given(unbatched(), st.data())
def test_qkv_permutations(inputs, data):
    Q, K, V, H, _ = inputs
    q_perm = np.array(data.draw(st.permutations(range(len(Q)))))
    k_perm = np.array(data.draw(st.permutations(range(len(K)))))
    for fn, extra in ((REF.multi_head_attention, (H,)), (REF.self_attention, ())):
        out = fn(Q, K, V, *extra)
        np.testing.assert_allclose(fn(Q[q_perm], K, V, *extra), out[q_perm], **CLOSE)
        np.testing.assert_allclose(fn(Q, K[k_perm], V[k_perm], *extra), out, **CLOSE)


@SETTINGS
@given(unbatched(heads=False))
def test_one_head_is_self_attention(inputs):
    Q, K, V, _, _ = inputs
    np.testing.assert_allclose(REF.multi_head_attention(Q, K, V, 1), REF.self_attention(Q, K, V), **CLOSE)


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
ORACLE = {"compute_qkv": torch_compute_qkv, "self_attention": torch_self_attention,
          "multi_head_attention": torch_heads}
