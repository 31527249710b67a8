"""The kv-cache answers the judge expects agree with PyTorch's causal attention.

Every step of a decoded sequence must give row t of causal attention over the whole
sequence (``scaled_dot_product_attention(is_causal=True)``), and every returned cache
must hold the projected keys and values of the tokens so far, old entries first.
A case that starts from (or is only) a judge-built cache is one query block over the
cached keys plus the new ones, with the matching causal mask.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge.author import step_leaf  # noqa: E402

CASES = build(bank.load_problem("kv-cache"), secret="oracle")


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def torch_decode(x, first_cache, W_q, W_k, W_v, W_o, H):
    """All T new tokens at once: outputs (B, T, E) and the full K, V (B, H, t0 + T, d_k)."""
    x = t64(x)
    B, T, E = x.shape
    split = lambda a: a.reshape(B, T, H, E // H).transpose(1, 2)  # noqa: E731
    q, k, v = split(x @ t64(W_q)), split(x @ t64(W_k)), split(x @ t64(W_v))
    if first_cache is None:
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    else:
        k = torch.cat([t64(first_cache[0]), k], dim=2)
        v = torch.cat([t64(first_cache[1]), v], dim=2)
        t0 = first_cache[0].shape[2]
        allowed = torch.arange(t0 + T)[None, :] <= (t0 + torch.arange(T))[:, None]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    return (out.transpose(1, 2).reshape(B, T, E) @ t64(W_o)).numpy(), k.numpy(), v.numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_answers_match_torch(case):
    a = case.args
    weights = [a[w] for w in ("W_q", "W_k", "W_v", "W_o")]
    if case.program["kind"] == "steps":
        x, first = case.meta["x"], case.meta["first_cache"]
        leaf = step_leaf
    else:
        x, first = a["x_t"], a["cache"]
        leaf = lambda s, name: name  # noqa: E731
    out, K, V = torch_decode(x, first, *weights, a["num_heads"])
    t0 = 0 if first is None else first[0].shape[2]
    want = case.expected[0]
    tol = dict(rtol=1e-10, atol=1e-12) if case.dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for s in range(x.shape[1]):
        np.testing.assert_allclose(want[leaf(s, "out_t")], out[:, s:s + 1], **tol)
        np.testing.assert_allclose(want[leaf(s, "K_cache")], K[:, :, :t0 + s + 1], **tol)
        np.testing.assert_allclose(want[leaf(s, "V_cache")], V[:, :, :t0 + s + 1], **tol)


def test_decode_cases_cover_long_sequences_and_judge_caches():
    kinds = {(c.program["kind"], c.meta.get("first_cache") is not None) for c in CASES if c.group == "hidden"}
    assert kinds == {("steps", False), ("steps", True), ("call", False)}
    assert max(len(c.inputs["steps"]) for c in CASES if c.program["kind"] == "steps") >= 16


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
def _oracle_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    """One decode step: the new token's row of torch_decode over the cache and itself."""
    out, k, v = torch_decode(x_t, cache, W_q, W_k, W_v, W_o, num_heads)
    return out, (k, v)


ORACLE = {"attention_step": _oracle_step}
