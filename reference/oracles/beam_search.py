"""beam-search: the answers the judge expects, against brute-force enumeration.

The judge's step model is re-implemented here in PyTorch (from the arrays of the
case's marker, not through ``mhajudge/sandbox/models.py``) to score sequences
token by token. Then:

- a beam at least as wide as every hypothesis there is never prunes: it must
  return the best ``beam_width`` of *all* sequences (each stopping at its first
  eos or after ``max_len`` tokens), enumerated with ``itertools.product``;
- ``beam_width = 1`` is greedy decoding, written as a plain loop;
- on the judge's own cases: every expected sequence is well formed (bos first,
  eos only last, eos or ``max_len`` new tokens), its score is the sum of the
  model's log-probabilities, and the scores are sorted, best first.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge.sandbox.models import build as build_model  # noqa: E402

CASES = build(bank.load_problem("beam-search"), secret="oracle")
reference = bank.reference_module("beam_search")
drivers = bank.reference_module("beam_search", "drivers")


class TorchModel:
    def __init__(self, marker):
        m = marker["$model"]
        self.w = {k: torch.tensor(np.asarray(m[k]), dtype=torch.float64) for k in ("embed", "W_h", "W_out", "bias")}

    def logp(self, prefix):
        h = torch.zeros(self.w["W_h"].shape[0], dtype=torch.float64)
        for t in prefix:
            h = torch.tanh(self.w["embed"][t] + h @ self.w["W_h"])
        return torch.log_softmax(h @ self.w["W_out"] + self.w["bias"], 0)

    def score(self, seq):
        return sum(float(self.logp(seq[:i])[seq[i]]) for i in range(1, len(seq)))


def all_hypotheses(V, bos, eos, max_len):
    """Every sequence a search can end with: cut at the first eos, or max_len new tokens."""
    seen = set()
    for tail in itertools.product(range(V), repeat=max_len):
        seq = [bos]
        for t in tail:
            seq.append(t)
            if t == eos:
                break
        seen.add(tuple(seq))
    return [list(s) for s in seen]


def _marker(rng, V, D=3, eos_bias=1.0):
    eos = int(rng.integers(V))
    return drivers.model("recurrent", **drivers._model_arrays(rng, V, D, 1.5, eos, eos_bias)), eos


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), V=st.integers(2, 4), max_len=st.integers(1, 3), k=st.integers(1, 4))
def test_an_unpruned_beam_is_exhaustive_enumeration(seed, V, max_len, k):
    rng = np.random.default_rng(seed)
    marker, eos = _marker(rng, V)
    bos = int((eos + 1) % V)
    oracle = TorchModel(marker)
    hyps = sorted(((oracle.score(h), h) for h in all_hypotheses(V, bos, eos, max_len)), key=lambda x: -x[0])
    width = V ** max_len                   # wider than every hypothesis: nothing is pruned
    seqs, scores = reference.beam_search(build_model(marker), bos, eos, width, max_len)
    assert [list(s) for s in seqs] == [h for _, h in hyps][:width]
    np.testing.assert_allclose(scores, [s for s, _ in hyps][:width], rtol=1e-9, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), V=st.integers(2, 7), max_len=st.integers(1, 6))
def test_width_one_is_greedy(seed, V, max_len):
    rng = np.random.default_rng(seed)
    marker, eos = _marker(rng, V)
    bos = int((eos + 1) % V)
    oracle = TorchModel(marker)
    seq = [bos]
    for _ in range(max_len):
        seq.append(int(torch.argmax(oracle.logp(seq))))
        if seq[-1] == eos:
            break
    seqs, scores = reference.beam_search(build_model(marker), bos, eos, 1, max_len)
    assert [list(s) for s in seqs] == [seq]
    assert math.isclose(scores[0], oracle.score(seq), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_answers_are_well_formed_and_scored_by_the_model(case):
    a, want = case.args, case.expected[0]
    oracle = TorchModel(a["step"])
    bos, eos, k, n = a["bos"], a["eos"], a["beam_width"], a["max_len"]
    seqs = [[int(t) for t in row if t >= 0] for row in want["sequences"]]
    scores = want["scores"]
    assert len(seqs) == min(k, len(all_hypotheses(oracle.w["embed"].shape[0], bos, eos, n))
                            if oracle.w["embed"].shape[0] ** n <= 4096 else k)
    assert np.all(np.diff(scores) < 0), "best first, no ties"
    for seq, s in zip(seqs, scores):
        assert seq[0] == bos and eos not in seq[1:-1]
        assert seq[-1] == eos or len(seq) == n + 1
        assert math.isclose(s, oracle.score(seq), rel_tol=1e-9, abs_tol=1e-9)
