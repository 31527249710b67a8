"""The mha-masked reference agrees with PyTorch on the judge's own cases.

Oracles: ``F.scaled_dot_product_attention`` on heads split by torch, and
``torch.nn.MultiheadAttention`` on unbatched input with our weights loaded
(``in_proj_weight = [Wq.T; Wk.T; Wv.T]``, ``out_proj.weight = Wo.T``, no biases).
Torch's bool ``attn_mask`` means True = blocked, so it gets ``mask == 0``. A fully
masked query row can be NaN in MultiheadAttention (it depends on the code path it
takes); there we check our convention (a zero row before ``Wo``, so a zero output
row) instead.

Properties (hypothesis): permuting the queries (and the mask's rows) permutes the
outputs, permuting the keys and values (and the mask's columns) leaves them
unchanged; mha-masked is mha-projected on a batch of one.
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

REF = bank.reference_module("mha_masked")
CASES = build(bank.load_problem("mha-masked"), secret="oracle")
MASKED = REF.multi_head_attention
PROJECTED = bank.reference_module("mha_projected").multi_head_attention


def t(a):
    return torch.from_numpy(np.asarray(a, np.float64))


def as_float64(args):
    return {k: (v.astype(np.float64) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v)
            for k, v in args.items()}


def keep_mask(args):
    L = args["Q"].shape[0]
    mask = args.get("mask")
    return np.ones((L, L), bool) if mask is None else np.asarray(mask) != 0


def torch_sdpa(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    L, D = Q.shape
    heads = lambda x: x.view(L, h, D // h).transpose(0, 1)              # (h, L, d_k)
    q, k, v = heads(t(Q) @ t(Wq)), heads(t(K) @ t(Wk)), heads(t(V) @ t(Wv))
    keep = torch.from_numpy(keep_mask(dict(Q=Q, mask=mask)))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)       # bool: True = may attend
    return (out.transpose(0, 1).reshape(L, D) @ t(Wo)).numpy()


def torch_mha(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    D = Q.shape[1]
    mha = torch.nn.MultiheadAttention(D, h, bias=False, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([t(Wq).T, t(Wk).T, t(Wv).T]))
        mha.out_proj.weight.copy_(t(Wo).T)
        blocked = None if mask is None else torch.from_numpy(~keep_mask(dict(Q=Q, mask=mask)))
        out, _ = mha(t(Q), t(K), t(V), attn_mask=blocked, need_weights=False)   # unbatched (L, D)
    return out.numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_torch(case):
    args = as_float64(case.args)
    O = REF.multi_head_attention(**args)
    assert O.shape == args["Q"].shape
    np.testing.assert_allclose(O, torch_sdpa(**args), rtol=1e-9, atol=1e-10)

    t_O = torch_mha(**args)
    rows = keep_mask(args).any(-1)               # queries that keep at least one key
    assert np.isfinite(t_O[rows]).all()
    finite = np.isfinite(t_O)                    # torch may give NaN (or 0) where every key is masked
    np.testing.assert_allclose(O[finite], t_O[finite], rtol=1e-9, atol=1e-10)
    assert (O[~rows] == 0).all()                 # our convention: zero row before Wo, so zero after
    assert np.isfinite(O).all()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_answer_matches_torch(case):
    """The judge's expected answer (the reference in the case's own dtype) is right
    to well within the case's tolerance."""
    want = torch_sdpa(**as_float64(case.args))
    got = case.expected[0]["O"].astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=case.tolerance["rtol"] / 10, atol=case.tolerance["atol"] / 10)


def test_cases_cover_the_contract():
    """0/1 masks with a fully masked row, L = 1, unmasked cases, float32."""
    masks = [np.asarray(c.args["mask"]) for c in CASES if c.args.get("mask") is not None]
    assert masks and all(m.dtype.kind == "f" and set(np.unique(m)) <= {0.0, 1.0} for m in masks)
    assert any((m == 0).all(-1).any() for m in masks if m.shape[0] > 1)
    assert any(c.args["Q"].shape[0] == 1 for c in CASES)
    assert any(c.args.get("mask") is None for c in CASES)
    assert any(c.dtype == "float32" for c in CASES)


# -- properties ------------------------------------------------------------------------------

@SETTINGS
@given(unbatched(), st.data())
def test_masked_permutations(inputs, data):
    Q, K, V, H, rng = inputs
    L, D = Q.shape
    W = [rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(4)]
    mask = (rng.random((L, L)) < 0.6).astype(float)
    perm = np.array(data.draw(st.permutations(range(L))))
    out = MASKED(Q, K, V, *W, H, mask)
    np.testing.assert_allclose(MASKED(Q[perm], K, V, *W, H, mask[perm]), out[perm], **CLOSE)
    np.testing.assert_allclose(MASKED(Q, K[perm], V[perm], *W, H, mask[:, perm]), out, **CLOSE)


@SETTINGS
@given(unbatched())
def test_masked_is_projected_on_a_batch_of_one(inputs):
    Q, K, V, H, rng = inputs
    L, D = Q.shape
    W = [rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(4)]
    mask = (rng.random((L, L)) < 0.5).astype(float)
    out, _ = PROJECTED(Q[None], K[None], V[None], *W, H, mask)
    np.testing.assert_allclose(MASKED(Q, K, V, *W, H, mask), out[0], **CLOSE)


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
def _oracle_mha(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    return np.nan_to_num(torch_sdpa(Q, K, V, Wq, Wk, Wv, Wo, h, mask))   # a fully masked row: zeros


ORACLE = {"multi_head_attention": _oracle_mha}
