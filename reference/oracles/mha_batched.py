"""The mha-batched reference agrees with PyTorch on the judge's own cases:
``F.scaled_dot_product_attention`` on heads split by torch, and
``torch.nn.MultiheadAttention`` with identity projections (the inputs are already
projected and there is no output projection).

Property (hypothesis): mha-batched is mha-qkv's ``multi_head_attention`` per batch
item, and permutation equivariant over the sequence.
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

REF = bank.reference_module("mha_batched")
CASES = build(bank.load_problem("mha-batched"), secret="oracle")
BATCHED = REF.multi_head_attention
QKV = bank.reference_module("mha_qkv")


def t(a):
    return torch.from_numpy(np.asarray(a, np.float64))


def torch_heads(Q, K, V, n_heads):
    B, L, D = Q.shape
    heads = lambda x: t(x).view(B, L, n_heads, D // n_heads).transpose(1, 2)     # (B, H, L, d_k)
    out = F.scaled_dot_product_attention(heads(Q), heads(K), heads(V))
    return out.transpose(1, 2).reshape(B, L, D).numpy()


def torch_mha_identity(Q, K, V, n_heads):
    D = Q.shape[-1]
    mha = torch.nn.MultiheadAttention(D, n_heads, bias=False, batch_first=True, dtype=torch.float64)
    eye = torch.eye(D, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([eye, eye, eye]))
        mha.out_proj.weight.copy_(eye)
        out, _ = mha(t(Q), t(K), t(V), need_weights=False)
    return out.numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_torch(case):
    args = {k: (v.astype(np.float64) if isinstance(v, np.ndarray) else v) for k, v in case.args.items()}
    got = REF.multi_head_attention(**args)
    assert got.shape == args["Q"].shape
    np.testing.assert_allclose(got, torch_heads(**args), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got, torch_mha_identity(**args), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_answer_matches_torch(case):
    """The judge's expected answer (the reference in the case's own dtype) is right
    to well within the case's tolerance."""
    want = torch_heads(**case.args)
    got = case.expected[0]["output"].astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=case.tolerance["rtol"] / 10, atol=case.tolerance["atol"] / 10)


# -- properties ------------------------------------------------------------------------------

@SETTINGS
@given(st.integers(1, 4), unbatched(), st.data())
def test_batched_is_qkv_per_item(B, inputs, data):
    _, _, _, H, rng = inputs
    L, D = inputs[0].shape
    scale = data.draw(st.sampled_from([0.3, 1.0, 30.0]))
    Q, K, V = (rng.standard_normal((B, L, D)) * s for s in (scale, scale, 1.0))
    out = BATCHED(Q, K, V, H)
    assert out.shape == (B, L, D)
    for b in range(B):
        np.testing.assert_allclose(out[b], QKV.multi_head_attention(Q[b], K[b], V[b], H), **CLOSE)
    perm = np.array(data.draw(st.permutations(range(L))))
    np.testing.assert_allclose(BATCHED(Q[:, perm], K, V, H), out[:, perm], **CLOSE)
    np.testing.assert_allclose(BATCHED(Q, K[:, perm], V[:, perm], H), out, **CLOSE)


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
ORACLE = {"multi_head_attention": torch_heads}
