"""The reference's answers do not depend on what free memory holds.

``cases.build`` runs the reference and its accepted alternatives without first leaving NaN
in free memory (the candidate, the mistakes and the mutants still get it): trusted code
never reads memory it did not write, and the poison cost ~1.4 ms a case of every cold
run. These tests would fail if a reference started to read an uninitialised array.
"""

import numpy as np
import pytest

from mhajudge import bank
from mhajudge.cases import build, run_reference
from mhajudge.sandbox import programs


def _leave_finite_garbage() -> None:
    """Free memory full of large finite numbers: what an unpoisoned heap may hold."""
    programs.poison_free_memory(fill=1e300)


def _same(a: dict, b: dict) -> bool:
    a, b = ({k: np.asarray(v) for k, v in d.items()} for d in (a, b))
    return a.keys() == b.keys() and all(
        a[k].shape == b[k].shape and np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind in "fc") for k in a)


@pytest.mark.parametrize("problem_id", bank.problem_ids())
def test_reference_answers_are_the_same_with_poisoned_or_garbage_free_memory(problem_id, monkeypatch):
    problem = bank.load_problem(problem_id)
    reference = bank.reference_module(problem.reference)
    calls = []  # build() runs the reference without the poison: it is never called
    with monkeypatch.context() as patched:
        patched.setattr(programs, "poison_free_memory", lambda fill=None: calls.append(1))
        built = build(problem, secret="memory-test", groups="all")
    assert calls == [], f"{problem_id}: the reference was run after poisoning memory {len(calls)} times"
    cases = [c for c in built  # answered by the reference: timed then, or called once with the judge's models
             if c.expect == "value" and c.expected and (c.ref_time_s is not None or c.program.get("models"))]
    if not cases:  # only speculative-decoding: every case is a statistical check, no reference answer
        assert problem_id == "speculative-decoding", f"{problem_id}: no case with a reference answer"
    for case in cases[:6]:  # the first six of each problem
        fn = getattr(reference, case.fn)
        poisoned = run_reference(fn, case.program, case.inputs, poison=True)
        _leave_finite_garbage()
        garbage = run_reference(fn, case.program, case.inputs, poison=False)
        assert _same(case.expected[0], poisoned), f"{problem_id} {case.name}: differs once memory holds NaN"
        assert _same(case.expected[0], garbage), f"{problem_id} {case.name}: differs with finite leftovers"


def test_a_reader_of_uninitialised_memory_is_caught_by_this_comparison():
    """The check above can fail: code that reads ``np.empty`` differs between the two heaps."""
    def reads_empty(x):
        out = np.empty(x.shape)
        out[0] += x[0]   # reads the leftover before writing it
        return out

    program = {"kind": "call", "returns": "out"}
    inputs = {"args": [np.ones(24)], "kwargs": {}}
    poisoned = run_reference(reads_empty, program, inputs, poison=True)
    _leave_finite_garbage()
    garbage = run_reference(reads_empty, program, inputs, poison=False)
    assert np.isnan(poisoned["out"]).any() and not np.isnan(garbage["out"]).any()
    assert not _same(poisoned, garbage)
