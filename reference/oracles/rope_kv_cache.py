"""The rope-kv-cache answers the judge expects agree with a full recomputation, without a cache.

For every decode case the oracle takes the whole sequence (the tokens behind the
judge's cache, then the ones fed one at a time), at absolute positions
``start - t .. start + T - 1``, applies RoPE to every query and key the way Hugging
Face's Llama does (``q * cos + rotate_half(q) * sin`` with the frequencies
duplicated), and runs causal ``F.scaled_dot_product_attention`` over all of it in
PyTorch. Step ``s`` must give row ``t + s`` of that, and its cache must hold the
rotated keys and the values of positions up to it. By property: rotating the whole
sequence by a common offset changes no output (RoPE is relative), but it does change
the cached keys.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.author import step_leaf  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge_reference.shared.strategies import SETTINGS  # noqa: E402

REF = bank.reference_module("rope_kv_cache")
CASES = [c for c in build(bank.load_problem("rope-kv-cache"), secret="oracle") if c.program["kind"] == "steps"]


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def hf_rope(x, positions, base):
    """Hugging Face's apply_rotary_pos_emb for one tensor (B, H, L, d)."""
    d = x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    freqs = torch.outer(torch.as_tensor(positions, dtype=torch.float64), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)                              # (L, d)
    return x * emb.cos() + rotate_half(x) * emb.sin()


def full_recompute(x_all, positions, W_q, W_k, W_v, W_o, H, base):
    """Outputs (B, L, E) and rotated K, plain V (B, H, L, d_k) of RoPE causal attention over x_all."""
    x = t64(x_all)
    B, L, E = x.shape
    split = lambda a: a.reshape(B, L, H, E // H).transpose(1, 2)  # noqa: E731
    q, k, v = split(x @ t64(W_q)), split(x @ t64(W_k)), split(x @ t64(W_v))
    q, k = hf_rope(q, positions, base), hf_rope(k, positions, base)
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return (out.transpose(1, 2).reshape(B, L, E) @ t64(W_o)).numpy(), k.numpy(), v.numpy()


def recompute(case):
    a, m = case.args, case.meta
    t, T = m["x_prev"].shape[1], m["x"].shape[1]
    x_all = np.concatenate([m["x_prev"], m["x"]], axis=1)
    positions = np.arange(m["start"] - t, m["start"] + T)
    return full_recompute(x_all, positions, a["W_q"], a["W_k"], a["W_v"], a["W_o"], a["num_heads"], m["base"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_answers_match_a_full_recomputation(case):
    out, K, V = recompute(case)
    t, T = case.meta["x_prev"].shape[1], case.meta["x"].shape[1]
    want = case.expected[0]
    tol = dict(rtol=1e-9, atol=1e-11) if case.dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    for s in range(T):
        np.testing.assert_allclose(want[step_leaf(s, "out_t")], out[:, t + s:t + s + 1], **tol)
        np.testing.assert_allclose(want[step_leaf(s, "K_cache")], K[:, :, :t + s + 1], **tol)
        np.testing.assert_allclose(want[step_leaf(s, "V_cache")], V[:, :, :t + s + 1], **tol)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_steps_feed_absolute_positions(case):
    positions = [step["args"][1] for step in case.inputs["steps"]]
    start = case.meta["start"]
    assert positions == list(range(start, start + len(positions)))


@st.composite
def sequences(draw):
    B, H, half, L = (draw(st.integers(1, n)) for n in (2, 3, 3, 7))
    E = H * 2 * half
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    Ws = [rng.standard_normal((E, E)) / np.sqrt(E) for _ in range(4)]
    return rng.standard_normal((B, L, E)), Ws, H, draw(st.integers(0, 5000)), draw(st.sampled_from([100.0, 1e4, 5e5]))


@SETTINGS
@given(sequences())
def test_decoding_step_by_step_is_the_full_recomputation_at_any_offset(drawn):
    x, Ws, H, offset, base = drawn
    L = x.shape[1]
    out, K, V = full_recompute(x, np.arange(offset, offset + L), *Ws, H, base)
    cache, outs = None, []
    for s in range(L):
        o, cache = REF.rope_attention_step(x[:, s:s + 1], offset + s, cache, *Ws, H, base=base)
        outs.append(o)
    np.testing.assert_allclose(np.concatenate(outs, axis=1), out, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(cache[0], K, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(cache[1], V, rtol=1e-9, atol=1e-11)
    # RoPE is relative: the same tokens at positions 0.. give the same outputs
    out0, _, _ = full_recompute(x, np.arange(L), *Ws, H, base)
    np.testing.assert_allclose(out0, out, rtol=1e-8, atol=1e-10)


def test_cases_cover_offset_caches_other_bases_and_float32():
    starts = {(c.meta["x_prev"].shape[1], c.meta["start"]) for c in CASES if c.group == "hidden"}
    assert any(t > 0 and start > t for t, start in starts)       # a cache that starts after position 0
    assert any(t == 0 and start > 0 for t, start in starts)      # no cache, yet not at position 0
    assert any(t > 0 and start == t for t, start in starts)
    assert {c.meta["base"] for c in CASES} >= {10000.0, 500000.0}
    assert any(c.dtype == "float32" for c in CASES if c.group == "hidden")
