"""generate: the tokens the judge expects, against PyTorch recomputing the whole sequence.

No cache: at every step the whole sequence goes through ``F.layer_norm``,
``F.scaled_dot_product_attention(is_causal=True)`` and the final norm, and the next
token is the argmax of the last position (the judge's models keep a margin between
the two largest logits, so rounding never decides). Checked on the judge's own
cases (every length of the timed case too), and on random models by hypothesis.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.author import step_leaf  # noqa: E402
from mhajudge.cases import build  # noqa: E402

CASES = build(bank.load_problem("generate"), secret="oracle")
reference = bank.reference_module("generate")
drivers = bank.reference_module("generate", "drivers")


def torch_generate(prompt, params, H, n):
    p = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in params.items()}
    E = p["embed"].shape[1]
    seq = [int(t) for t in prompt]
    for _ in range(n):
        L = len(seq)
        x = p["embed"][seq] + p["pos"][:L]
        h = F.layer_norm(x, (E,), p["ln1_gamma"], p["ln1_beta"], eps=1e-5)
        q, k, v = ((h @ p[w]).reshape(L, H, E // H).transpose(0, 1) for w in ("W_q", "W_k", "W_v"))
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)          # (H, L, d)
        x = x + attn.transpose(0, 1).reshape(L, E) @ p["W_o"]
        logits = F.layer_norm(x[-1], (E,), p["lnf_gamma"], p["lnf_beta"], eps=1e-5) @ p["lm_head"]
        seq.append(int(torch.argmax(logits)))
    return np.array(seq[len(prompt):], dtype=np.int64)


def _calls(case):
    if case.program["kind"] == "steps":  # every call of a round; of the others, those up to 192 tokens (torch: O(T^3))
        n = len(case.meta["lengths"])
        return [(s["args"], case.expected[0][step_leaf(k, "tokens")]) for k, s in enumerate(case.inputs["steps"])
                if k < n or s["args"][3] <= 192]
    a = case.args
    return [([a["prompt"], a["params"], a["num_heads"], a["max_new_tokens"]], case.expected[0]["tokens"])]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_tokens_match_torch_without_cache(case):
    for (prompt, params, H, n), want in _calls(case):
        np.testing.assert_array_equal(torch_generate(prompt, params, H, n), want)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), P=st.integers(1, 6), n=st.integers(1, 8), heads=st.sampled_from([1, 2, 4]))
def test_reference_matches_torch_on_random_models(seed, P, n, heads):
    rng = np.random.default_rng(seed)
    params = drivers.model(rng, 11, 8, P + n + 2, 1.0)
    prompt = rng.integers(0, 11, size=P)
    _, gap = drivers.greedy_margin(prompt, params, heads, n)
    if gap < 1e-6:
        return  # a near tie: either token is right to rounding
    np.testing.assert_array_equal(reference.generate(prompt, params, heads, n),
                                  torch_generate(prompt, params, heads, n))


def test_the_timed_case_is_rounds_of_every_length_each_from_a_prompt_of_its_own():
    """One model; every call a new prompt (a memo of earlier answers never hits), the lengths in
    order in each round (the check takes each length's least time over the rounds)."""
    case = next(c for c in CASES if c.program["kind"] == "steps")
    steps, lengths = case.inputs["steps"], case.meta["lengths"]
    assert len(steps) == case.meta["rounds"] * len(lengths) and case.meta["rounds"] >= 3
    assert [s["args"][3] for s in steps] == lengths * case.meta["rounds"]
    assert len({s["args"][0].tobytes() for s in steps}) == len(steps)
    assert all(s["args"][1] is steps[0]["args"][1] for s in steps)
    assert case.program["times"] is True
