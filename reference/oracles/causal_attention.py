"""The causal-attention reference agrees with PyTorch on the judge's own cases.

Two oracles: ``torch.nn.MultiheadAttention`` (its own head split, weights per head)
with a causal ``attn_mask``, and ``F.scaled_dot_product_attention(is_causal=True)``
on heads we split with torch.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402

REF = bank.reference_module("causal_attention")
CASES = build(bank.load_problem("causal-attention"), secret="oracle")


def as64(args):
    return {k: (np.asarray(v, np.float64) if isinstance(v, np.ndarray) else v) for k, v in args.items()}


def torch_mha(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    mha = torch.nn.MultiheadAttention(E, num_heads, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        # torch computes x @ weight.T, so its weights are ours transposed
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([W_q.T, W_k.T, W_v.T])))
        mha.out_proj.weight.copy_(torch.from_numpy(W_o.T.copy()))
        t = torch.from_numpy(x)
        future = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)   # True = blocked
        out, weights = mha(t, t, t, attn_mask=future, need_weights=True, average_attn_weights=False)
    return out.numpy(), weights.numpy()


def torch_sdpa_causal(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    t = torch.from_numpy(x)
    q, k, v = ((t @ torch.from_numpy(W)).view(B, L, num_heads, E // num_heads).transpose(1, 2)
               for W in (W_q, W_k, W_v))
    heads = F.scaled_dot_product_attention(q, k, v, is_causal=True)             # (B, H, L, d_k)
    return (heads.transpose(1, 2).reshape(B, L, E) @ torch.from_numpy(W_o)).numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_torch(case):
    args = as64(case.args)
    out, weights = REF.causal_self_attention(**args)
    t_out, t_weights = torch_mha(**args)
    assert out.shape == t_out.shape and weights.shape == t_weights.shape
    scale = max(1.0, float(np.abs(t_out).max()))
    np.testing.assert_allclose(out, t_out, rtol=1e-9, atol=1e-10 * scale)
    np.testing.assert_allclose(weights, t_weights, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out, torch_sdpa_causal(**args), rtol=1e-9, atol=1e-10 * scale)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_weights_are_causal_rows_summing_to_one(case):
    _, weights = REF.causal_self_attention(**as64(case.args))
    L = weights.shape[-1]
    assert (weights[..., np.triu_indices(L, k=1)[0], np.triu_indices(L, k=1)[1]] == 0).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=0, atol=1e-12)


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
ORACLE = {"causal_self_attention": lambda x, W_q, W_k, W_v, W_o, num_heads:
          torch_mha(*as64(dict(x=x, W_q=W_q, W_k=W_k, W_v=W_v, W_o=W_o)).values(), num_heads)}
