"""sampling: the exact next-token distribution, and the cases built from it.

- the exact law (``reference/shared/sampling_law.py``) against PyTorch (topk, softmax,
  sort, cumsum) and against brute-force enumeration of the nucleus; the mistakes'
  laws against PyTorch;
- the reference and mistake samplers draw from their laws (in-process G-tests);
- cases: fixed seeds, changed by ``MHAJUDGE_SECRET``; every case separates the
  mistakes it names.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from mhajudge import bank, cases  # noqa: E402

stats = bank.reference_module("stats", "shared")
sampling = bank.reference_module("sampling", "drivers")
sampling_law = bank.reference_module("sampling_law", "shared")
sampling_ref = bank.reference_module("sampling")
sampling_mistakes = bank.reference_module("sampling", "mistakes")


# -- the exact next-token distribution ------------------------------------------------------

def torch_law(logits, temperature, top_k, top_p, order="top-k first", boundary="keep"):
    """The statement's algorithm with PyTorch's topk, softmax, sort and cumsum."""
    z = torch.tensor(logits, dtype=torch.float64)
    if temperature == 0:
        out = torch.zeros_like(z)
        out[torch.argmax(z)] = 1.0                      # torch: the first of tied maxima
        return out.numpy()
    z = z / temperature
    keep = torch.ones(z.shape, dtype=torch.bool)

    def apply_k(keep):
        kth = torch.topk(z[keep], min(top_k, int(keep.sum()))).values[-1]
        return keep & (z >= kth)

    def apply_p(keep):
        probs = torch.softmax(z.masked_fill(~keep, -math.inf), 0)
        sorted_probs, idx = torch.sort(probs, descending=True, stable=True)
        cum = torch.cumsum(sorted_probs, 0)
        kept_sorted = (cum - sorted_probs) < top_p if boundary == "keep" else cum <= top_p
        new = torch.zeros_like(keep)
        new[idx[kept_sorted]] = True
        return keep & new

    steps = [(apply_k, top_k), (apply_p, top_p)]
    if order != "top-k first":
        steps.reverse()
    for fn, value in steps:
        if value is not None:
            keep = fn(keep)
    return torch.softmax(z.masked_fill(~keep, -math.inf), 0).numpy()


def enumerated_law(logits, temperature, top_k, top_p):
    """Brute force: the top-k set by counting larger logits, the nucleus as the smallest subset
    (of all subsets) whose renormalised mass reaches top_p."""
    z = [v / temperature for v in logits]
    V = len(z)
    kept = list(range(V))
    if top_k is not None:
        kept = [t for t in range(V) if sum(z[j] > z[t] for j in range(V)) < top_k]
    m = max(z[t] for t in kept)
    w = {t: math.exp(z[t] - m) for t in kept}
    total = sum(w.values())
    probs = {t: w[t] / total for t in kept}
    if top_p is not None:
        for size in range(1, len(kept) + 1):
            best = max(itertools.combinations(kept, size), key=lambda s: sum(probs[t] for t in s))
            if sum(probs[t] for t in best) >= top_p:
                kept = list(best)
                break
    total = sum(probs[t] for t in kept)
    return np.array([probs[t] / total if t in kept else 0.0 for t in range(V)])


def _margin(logits, temperature, top_k, top_p):
    return sampling_law.top_p_margin(np.array(logits), temperature, top_k, top_p)


cases_strategy = st.tuples(
    st.lists(st.floats(-6, 6, allow_nan=False), min_size=2, max_size=8),
    st.sampled_from([0.25, 0.5, 1.0, 1.7, 3.0]),
    st.one_of(st.none(), st.integers(1, 9)),
    st.one_of(st.none(), st.floats(0.05, 1.0)),
)


@settings(max_examples=300, deadline=None)
@given(cases_strategy)
def test_law_matches_torch_and_enumeration(case):
    logits, temperature, top_k, top_p = case
    assume(_margin(logits, temperature, top_k, top_p) > 1e-9)       # not on the threshold
    assume(len(set(np.round(logits, 9))) == len(logits))              # no ties inside the nucleus
    got = sampling_law.law(logits, temperature, top_k, top_p).probs
    np.testing.assert_allclose(got, torch_law(logits, temperature, top_k, top_p), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got, enumerated_law(logits, temperature, top_k, top_p), rtol=1e-10, atol=1e-14)


@settings(max_examples=150, deadline=None)
@given(cases_strategy)
def test_mistake_laws_match_torch(case):
    logits, temperature, top_k, top_p = case
    assume(_margin(logits, temperature, top_k, top_p) > 1e-9)
    assume(len(set(np.round(logits, 9))) == len(logits))              # no ties inside the nucleus
    knobs = sampling_mistakes.KNOBS
    law = sampling_law.law
    order = law(logits, temperature, top_k, top_p, **knobs["top-k-after-top-p"]).probs
    np.testing.assert_allclose(order, torch_law(logits, temperature, top_k, top_p, order="top-p first"), atol=1e-12)
    drop = law(logits, temperature, top_k, top_p, **knobs["top-p-drops-boundary"]).probs
    want = torch_law(logits, temperature, top_k, top_p, boundary="drop")
    np.testing.assert_allclose(drop, want, atol=1e-12)               # NaN where nothing is left, in both
    temp = law(logits, temperature, top_k, top_p, **knobs["temperature-after-softmax"]).probs
    np.testing.assert_allclose(temp, torch_law(logits, 1.0, top_k, top_p), atol=1e-12)


def test_greedy_law_takes_the_first_maximum_and_ignores_filters():
    logits = [0.5, 2.0, -1.0, 2.0]
    for kwargs in ({}, {"top_k": 3, "top_p": 0.2}):
        probs = sampling_law.law(logits, 0, **kwargs).probs
        assert probs.tolist() == [0.0, 1.0, 0.0, 0.0]
    assert sampling_law.law([0.2, 1.0, 0.9], 1.0, top_k=1).probs.tolist() == [0.0, 1.0, 0.0]


def test_top_k_keeps_ties_at_the_boundary():
    probs = sampling_law.law([3.0, 1.0, 2.0, 2.0, 0.0], 1.0, top_k=2).probs
    assert (probs > 0).tolist() == [True, False, True, True, False]


def test_huge_logits_law_is_finite_and_the_unstable_one_is_not():
    logits = 1e4 + np.array([0.0, 1.0, -0.5, 2.0])
    right = sampling_law.law(logits)
    np.testing.assert_allclose(right.probs, torch.softmax(torch.tensor(logits), 0).numpy(), rtol=1e-12)
    assert not sampling_law.law(logits, stable=False).finite


def test_excluded_tokens_are_explained():
    law = sampling_law.law([3.0, 2.9, 0.0, -1.0, 1.0], 1.0, top_k=4, top_p=0.4)
    assert set(law.why) == {1, 2, 3, 4}
    assert "top_k=4" in law.why[3] and "top_p=0.4" in law.why[1]


def test_reference_and_mistake_samplers_draw_from_their_laws():
    """12000 in-process draws: each sampler fits its own law; the mistakes miss the right one."""
    logits = np.array([2.0, 1.4, 1.0, 0.5, 0.1, -0.4, -1.0, -2.0])
    kwargs = {"temperature": 1.5, "top_k": 4, "top_p": 0.75}
    assert _margin(logits, 1.5, 4, 0.75) > 0.02
    seeds = range(12000)
    right = sampling_law.law(logits, **kwargs).probs
    draws = [sampling_ref.sample_token(logits, seed=s, **kwargs) for s in seeds]
    assert not stats.g_test(np.bincount(draws, minlength=8), right).reject
    for mistake, fns in sampling_mistakes.MISTAKES.items():
        wrong = sampling_law.law(logits, **kwargs, **sampling_mistakes.KNOBS[mistake]).probs
        draws = np.array([fns["sample_token"](logits, seed=s, **kwargs) for s in seeds])
        assert not stats.g_test(np.bincount(draws, minlength=8), wrong).reject, mistake
        # On these logits (moderate, no ties, the same nucleus with or without the
        # temperature) these three mistakes are right; their own cases ("logits around
        # 1e4", a tie, "temperature 0.5, then top-p") separate them.
        if mistake not in ("unstable-softmax", "top-k-exactly-k", "filters-before-temperature"):
            assert stats.separates(wrong, right, len(seeds)), mistake
            assert right[draws].min() == 0 or stats.g_test(np.bincount(draws, minlength=8), right).reject


def test_chart_shows_expected_and_observed_side_by_side():
    problem = bank.load_problem("sampling")
    case = next(c for c in cases.build(problem, secret="chart") if c.name == "top-k")
    the_law = sampling.case_law(case)
    counts = np.round(the_law.probs * 1000).astype(int)
    counts[np.argmin(the_law.probs)] += 7                   # a token that may not be drawn
    text = sampling.chart(case, the_law, counts, int(counts.sum()))
    assert "expected" in text and "observed" in text and "not allowed" in text and "█" in text


# -- sampling cases: fixed seeds, changed by the secret; every case separates its mistakes ------

def test_sampling_cases_are_fixed_and_secret_dependent():
    problem = bank.load_problem("sampling")
    a, b = cases.build(problem, secret="s1"), cases.build(problem, secret="s1")
    c = cases.build(problem, secret="s2")
    hidden = [i for i, x in enumerate(a) if x.group == "hidden" and x.program["kind"] == "repeat"]
    assert hidden
    for i in hidden:
        assert a[i].inputs["vary"] == b[i].inputs["vary"]
        np.testing.assert_array_equal(a[i].args["logits"], b[i].args["logits"])
    assert all(a[i].inputs["vary"] != c[i].inputs["vary"] for i in hidden if a[i].meta["seeds"][0] is not None)


@pytest.mark.parametrize("secret", ["", "x", "another secret"])
def test_every_sampling_case_separates_the_mistakes_it_names(secret):
    problem = bank.load_problem("sampling")
    groups = {g.name: g for g in problem.groups}
    separated = 0
    for case in cases.build(problem, secret=secret):
        if case.check is None:
            continue
        group = groups.get(case.name) or groups[case.name.rsplit(" #", 1)[0]]
        right = sampling.case_law(case)
        n = len(case.meta["seeds"])
        if group.params.get("exact_boundary"):  # the boundary hit on purpose: torch and enumeration agree
            assert np.count_nonzero(right.probs) < len(case.args["logits"]) or case.args.get("top_p") == 1.0
        else:
            assert _margin(case.args["logits"], case.args.get("temperature", 1.0), case.args.get("top_k"),
                           case.args.get("top_p")) >= sampling.MARGIN
        for mistake in group.params.get("separates", []):
            wrong = sampling.case_law(case, **sampling_mistakes.KNOBS[mistake]).probs
            assert stats.separates(wrong, right.probs, n), (case.name, mistake)
            separated += 1
    assert separated >= 10


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
def _oracle_sample(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    """torch_law's distribution, drawn by torch.multinomial from a generator seeded with ``seed``
    (the same law as the reference's draws, not the same draws)."""
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("invalid argument")
    probs = torch.from_numpy(torch_law(np.asarray(logits, np.float64), temperature, top_k, top_p))
    gen = torch.Generator()
    gen.manual_seed(seed) if seed is not None else gen.seed()
    return int(torch.multinomial(probs, 1, generator=gen))


ORACLE = {"sample_token": _oracle_sample}


def test_the_exact_boundary_case_keeps_only_the_crossing_token():
    case = next(c for c in cases.build(bank.load_problem("sampling"))
                if c.name.startswith("top-p boundary hit exactly"))
    assert case.args["top_p"] == 0.5 and "temperature" not in case.args
    np.testing.assert_array_equal(sampling.case_law(case).probs, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(torch_law(case.args["logits"], 1.0, None, 0.5), [1.0, 0.0, 0.0])


def test_the_power_case_catches_a_law_raised_to_1_05():
    for secret in ("", "a", "b"):
        case = next(c for c in cases.build(bank.load_problem("sampling"), secret=secret)
                    if c.name.startswith("a slightly distorted law"))
        p = sampling.case_law(case).probs
        q = p ** 1.05 / np.sum(p ** 1.05)
        assert stats.power_miss(q, p, len(case.meta["seeds"])) <= 1e-6
        assert len(case.meta["seeds"]) <= 40000
        from mhajudge.sandbox import wire
        assert len(wire.pack({"op": "case"}, case.inputs)) < wire.MAX_HEADER   # the seeds fit in one frame header
