"""speculative-decoding: the exact law of the output, by enumeration, and the cases built from it.

- The law (``reference/shared/speculative_law.py``) against an independent
  enumeration in exact rational arithmetic: every accept/reject path of the
  procedure, with ``fractions.Fraction`` probabilities, summed per output sequence
  (for the correct procedure and for each named mistake's).
- The point of the method: with the drafts themselves drawn from ``q`` (enumerated
  over every draft in ``V^k``), the first token is distributed exactly as ``p_0``,
  and, given that ``x_0`` was accepted, the second as ``p_1``.
- The reference sampler and each mistake's sampler draw from their laws (G-test
  in-process over many seeds), so a mistake's code is the law the diagnosis uses.
- The judge's cases: every case separates the mistakes it names.
"""

import itertools
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")  # the oracle suite runs where torch is; nothing here needs it

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build, run_reference  # noqa: E402

law_mod = bank.reference_module("speculative_law", "shared")
stats = bank.reference_module("stats", "shared")
reference = bank.reference_module("speculative_decoding")
mistakes = bank.reference_module("speculative_decoding", "mistakes")
drivers = bank.reference_module("speculative_decoding", "drivers")
CASES = build(bank.load_problem("speculative-decoding"), secret="oracle")


def rational_rows(rng, rows, V, denominator=64):
    """Distributions with rational entries (some zero), exactly summing to 1."""
    out = []
    for _ in range(rows):
        w = rng.integers(0, 6, size=V)
        w[rng.integers(V)] += 1
        out.append([Fraction(int(x), int(w.sum())) for x in w])
    return out


def enumerate_law(x, q, p, ratio="p/q", resample_from="residual", bonus=True):
    """{output tuple: probability}, walking every path of the procedure with Fractions."""
    V, k = len(p[0]), len(x)
    out = {}

    def add(seq, prob):
        if prob:
            out[tuple(seq)] = out.get(tuple(seq), Fraction(0)) + prob

    def walk(i, prob):
        if i == k:
            if bonus:
                for y in range(V):
                    add(list(x) + [y], prob * p[k][y])
            else:
                add(list(x), prob)
            return
        px, qx = p[i][x[i]], q[i][x[i]]
        if ratio == "p/q":
            a = min(Fraction(1), px / qx)
        else:
            a = Fraction(1) if px == 0 else min(Fraction(1), qx / px)
        walk(i + 1, prob * a)
        if a < 1:
            if resample_from == "target":
                r = list(p[i])
            else:
                r = [max(Fraction(0), pp - qq) for pp, qq in zip(p[i], q[i])]
            s = sum(r)
            for y in range(V):
                add(list(x[:i]) + [y], prob * (1 - a) * r[y] / s)

    walk(0, Fraction(1))
    return out


def as_cells(table, k, V):
    cells = np.zeros((k + 1) * V)
    for seq, prob in table.items():
        cells[(len(seq) - 1) * V + seq[-1]] += float(prob)
    return cells


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), V=st.integers(2, 5), k=st.integers(1, 4),
       knobs=st.sampled_from([{}, *law_mod.KNOBS.values()]))
def test_law_matches_enumeration_of_every_path(seed, V, k, knobs):
    rng = np.random.default_rng(seed)
    q, p = rational_rows(rng, k, V), rational_rows(rng, k + 1, V)
    x = [int(rng.choice([t for t in range(V) if q[i][t] > 0])) for i in range(k)]
    table = enumerate_law(x, q, p, **knobs)
    assert sum(table.values()) == 1
    got = law_mod.law(x, np.array(q, dtype=float), np.array(p, dtype=float), **knobs)
    np.testing.assert_allclose(got, as_cells(table, k, V), atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), V=st.integers(2, 4), k=st.integers(1, 3))
def test_drafts_drawn_from_q_leave_the_target_distribution(seed, V, k):
    rng = np.random.default_rng(seed)
    q, p = rational_rows(rng, k, V), rational_rows(rng, k + 1, V)
    first = [Fraction(0)] * V
    second = [Fraction(0)] * V               # P(x_0 accepted, second token = y)
    accepted0 = Fraction(0)
    for x in itertools.product(range(V), repeat=k):
        px = Fraction(1)
        for i, t in enumerate(x):
            px *= q[i][t]
        if not px:
            continue
        for seq, prob in enumerate_law(list(x), q, p).items():
            first[seq[0]] += px * prob
            if len(seq) >= 2:                # x_0 was accepted
                accepted0 += px * prob
                second[seq[1]] += px * prob
    assert first == p[0]
    if accepted0:  # x_0 can be accepted (p_0 and q_0 overlap): then the next token follows p_1
        assert [s / accepted0 for s in second] == p[1]
    else:
        assert all(min(a, b) == 0 for a, b in zip(p[0], q[0]))
    np.testing.assert_allclose(law_mod.first_token_law(np.array(q[0], float), np.array(p[0], float)),
                               np.array(p[0], float), atol=1e-12)


@pytest.mark.parametrize("name, fn", [("reference", reference.speculative_accept)] +
                         [(m, d["speculative_accept"]) for m, d in mistakes.MISTAKES.items()])
def test_samplers_draw_from_their_laws(name, fn):
    rng = np.random.default_rng(7)
    V, k, n = 5, 3, 6000
    q = rng.dirichlet(np.ones(V), size=k)
    p = rng.dirichlet(np.ones(V), size=k + 1)
    x = np.array([rng.choice(V, p=row) for row in q])
    knobs = getattr(fn, "keywords", {})
    probs = law_mod.law(x, q, p, **knobs)
    rows = [fn(x, q, p, seed=s) for s in range(n)]
    width = max(len(r) for r in rows)
    padded = np.array([list(r) + [-1] * (width - len(r)) for r in rows])
    cells = law_mod.cells(padded, x, V)
    assert np.all(cells >= 0) and np.all(probs[cells] > 0), name
    assert not stats.g_test(np.bincount(cells, minlength=probs.size), probs).reject, name


@pytest.mark.parametrize("case", [c for c in CASES if c.check in (drivers.check_law, drivers.check_first_token)],
                         ids=lambda c: c.name)
def test_cases_separate_the_mistakes_they_name(case):
    group = next(g for g in bank.load_problem("speculative-decoding").groups if case.name.startswith(g.name))
    for m in group.params.get("separates", []):
        fn = mistakes.MISTAKES[m]["speculative_accept"]
        answer = run_reference(fn, case.program, case.inputs)
        assert not case.check(case, answer).ok, m
    answer = run_reference(reference.speculative_accept, case.program, case.inputs)
    assert case.check(case, answer).ok
