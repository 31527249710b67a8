"""The sliding-window reference agrees with an explicit masked attention in PyTorch.

The oracle builds the window mask entry by entry from the definition (key j is
visible to query i when i - window < j <= i), then runs ``torch.nn.MultiheadAttention``
with it (its own head split, weights per head) and, on heads split with torch, an
explicit ``softmax(q k^T / sqrt(d_k))`` with masked scores set to -inf. By property:
window >= L is exactly causal attention, and every row of the weights sums to 1 over
exactly min(i + 1, window) keys.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from hypothesis import given, strategies as st  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge_reference.shared.strategies import SETTINGS  # noqa: E402

REF = bank.reference_module("sliding_window_attention")
CAUSAL = bank.reference_module("causal_attention")
CASES = build(bank.load_problem("sliding-window-attention"), secret="oracle")
VALID = [c for c in CASES if c.expect == "value"]


def as64(args):
    return {k: (np.asarray(v, np.float64) if isinstance(v, np.ndarray) else v) for k, v in args.items()}


def window_mask(L, window):
    """True where query i may see key j, written from the definition one entry at a time."""
    allowed = torch.zeros(L, L, dtype=torch.bool)
    for i in range(L):
        for j in range(L):
            allowed[i, j] = i - window < j <= i
    return allowed


def torch_mha(x, W_q, W_k, W_v, W_o, num_heads, window):
    B, L, E = x.shape
    mha = torch.nn.MultiheadAttention(E, num_heads, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([W_q.T, W_k.T, W_v.T])))
        mha.out_proj.weight.copy_(torch.from_numpy(W_o.T.copy()))
        t = torch.from_numpy(x)
        out, weights = mha(t, t, t, attn_mask=~window_mask(L, window), need_weights=True,
                           average_attn_weights=False)
    return out.numpy(), weights.numpy()


def torch_explicit(x, W_q, W_k, W_v, W_o, num_heads, window):
    B, L, E = x.shape
    t = torch.from_numpy(x)
    q, k, v = ((t @ torch.from_numpy(W)).view(B, L, num_heads, E // num_heads).transpose(1, 2)
               for W in (W_q, W_k, W_v))
    scores = (q @ k.transpose(-1, -2)) / (E // num_heads) ** 0.5
    weights = torch.softmax(scores.masked_fill(~window_mask(L, window), float("-inf")), dim=-1)
    return ((weights @ v).transpose(1, 2).reshape(B, L, E) @ torch.from_numpy(W_o)).numpy(), weights.numpy()


@pytest.mark.parametrize("case", VALID, ids=lambda c: c.name)
def test_reference_matches_torch(case):
    args = as64(case.args)
    out, weights = REF.sliding_window_attention(**args)
    scale = max(1.0, float(np.abs(out).max()))
    for t_out, t_weights in (torch_mha(**args), torch_explicit(**args)):
        np.testing.assert_allclose(out, t_out, rtol=1e-9, atol=1e-10 * scale)
        np.testing.assert_allclose(weights, t_weights, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_judge_expects_the_reference(case):
    if case.expect != "value":
        with pytest.raises(ValueError):
            REF.sliding_window_attention(**case.args)
        return
    out, weights = REF.sliding_window_attention(**case.args)
    np.testing.assert_array_equal(case.expected[0]["output"], out)
    np.testing.assert_array_equal(case.expected[0]["attn_weights"], weights)


@st.composite
def inputs(draw):
    B, L, H, d_k = (draw(st.integers(1, n)) for n in (2, 9, 3, 3))
    E = H * d_k
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((B, L, E)) * draw(st.sampled_from([0.3, 1.0, 30.0]))
    Ws = [rng.standard_normal((E, E)) / np.sqrt(E) for _ in range(4)]
    return x, Ws, H, draw(st.integers(1, L + 3))


@SETTINGS
@given(inputs())
def test_windows_keep_exactly_their_keys(drawn):
    x, Ws, H, window = drawn
    out, weights = REF.sliding_window_attention(x, *Ws, H, window)
    L = x.shape[1]
    visible = window_mask(L, window).numpy()
    assert (weights[..., ~visible] == 0).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(visible.sum(-1), np.minimum(np.arange(L) + 1, window))
    if window >= L:
        c_out, c_weights = CAUSAL.causal_self_attention(x, *Ws, H)
        np.testing.assert_allclose(out, c_out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(weights, c_weights, rtol=1e-12, atol=1e-14)


def test_cases_cover_every_window_regime():
    hidden = [c for c in VALID if c.group == "hidden"]
    regimes = {("1" if c.args["window"] == 1 else "L-1" if c.args["window"] == c.args["x"].shape[1] - 1
                else "L" if c.args["window"] == c.args["x"].shape[1] else ">L" if c.args["window"] > c.args["x"].shape[1]
                else "inside") for c in hidden}
    assert regimes == {"1", "L-1", "L", ">L", "inside"}
    assert any(c.dtype == "float32" for c in hidden)
    assert {c.args["window"] for c in CASES if c.expect == "ValueError" and c.group == "hidden"} >= {0}
