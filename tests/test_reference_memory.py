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
from mhajudge.sandbox.programs import POISON_LARGE, POISON_SMALL


def _leave_finite_garbage() -> None:
    """Free memory full of large finite numbers: what an unpoisoned heap may hold."""
    for n in list(POISON_SMALL) + list(POISON_LARGE):
        held = [np.full(n // 8, 1e300) for _ in range(4)]
        del held


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        np.asarray(a[k]).shape == np.asarray(b[k]).shape
        and np.array_equal(np.asarray(a[k]), np.asarray(b[k]), equal_nan=np.asarray(a[k]).dtype.kind in "fc")
        for k in a)


@pytest.mark.parametrize("problem_id", bank.problem_ids())
def test_reference_answers_are_the_same_with_poisoned_or_garbage_free_memory(problem_id, monkeypatch):
    problem = bank.load_problem(problem_id)
    reference = bank.reference_module(problem.reference)
    cases = [c for c in build(problem, secret="memory-test", groups="all")
             if c.expect == "value" and c.expected and c.ref_time_s is not None]  # answered by the reference
    if not cases:  # only speculative-decoding: every case is a statistical check, no reference answer
        assert problem_id == "speculative-decoding", f"{problem_id}: no case with a reference answer"
    for case in cases[:6]:  # a few of each problem: every group's first cases
        fn = getattr(reference, case.fn)
        poisoned = run_reference(fn, case.program, case.inputs, poison=True)
        _leave_finite_garbage()
        garbage = run_reference(fn, case.program, case.inputs, poison=False)
        assert _same(case.expected[0], poisoned), f"{problem_id} {case.name}: differs once memory holds NaN"
        assert _same(case.expected[0], garbage), f"{problem_id} {case.name}: differs with finite leftovers"
    # and the poison really is skipped for the reference in build(): it is never called
    calls = []
    import mhajudge.sandbox.programs as programs

    monkeypatch.setattr(programs, "poison_free_memory", lambda: calls.append(1))
    build(problem, secret="memory-test", groups="sample")
    assert calls == [], f"{problem_id}: the reference was run after poisoning memory {len(calls)} times"


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
