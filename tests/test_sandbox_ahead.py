"""A case sent to the child before its turn (``Sandbox.run(..., then=next)``): the child
runs it while the judge checks the previous answer. Its answer must be the one that case
alone gets, and one whose turn does not come must never be taken for another's."""

import numpy as np
import pytest

from conftest import SDPA_CORRECT

from mhajudge import bank
from mhajudge.cases import build
from mhajudge.sandbox.runner import Limits, Sandbox
from mhajudge.track import banned_modules


def _box(tmp_path, body=SDPA_CORRECT, problem_id="sdpa"):
    problem = bank.load_problem(problem_id)
    path = tmp_path / "sol.py"
    path.write_text(f"# mhajudge: {problem_id}\nimport numpy as np\n" + body)
    eps = [{"name": ep.name, "params": ep.params} for ep in problem.entry_points]
    return problem, Sandbox(path, eps, banned_modules(problem, "numpy"), Limits(), isolate=False)


def _args(case):
    return case.index, case.program, case.inputs, case.time_limit


def _same(a, b):
    assert a.status == b.status == "ok", (a, b)
    assert sorted(a.answer) == sorted(b.answer)
    for k in a.answer:
        np.testing.assert_array_equal(a.answer[k], b.answer[k])


def test_answers_sent_ahead_are_the_answers_each_case_gets_alone(tmp_path):
    problem, box = _box(tmp_path)
    cases = build(problem, secret="ahead")
    with box:
        ahead = [box.run(*_args(c), then=_args(cases[i + 1]) if i + 1 < len(cases) else None)
                 for i, c in enumerate(cases)]
        assert box.ahead is None
        alone = [box.run(*_args(c)) for c in cases]
    for a, b in zip(ahead, alone):
        _same(a, b)


def test_a_case_sent_ahead_whose_turn_does_not_come_is_dropped(tmp_path):
    problem, box = _box(tmp_path)
    c0, c1, c2 = build(problem, secret="ahead")[:3]
    with box:
        box.run(*_args(c0), then=_args(c1))
        assert box.ahead is not None and box.ahead[0] == c1.index
        skipped_to = box.run(*_args(c2))  # c1's answer arrives first: read and dropped
        alone = box.run(*_args(c2))
        _same(skipped_to, alone)
        assert box.run(*_args(c1)).status == "ok"


def test_a_new_version_of_the_file_never_gets_an_answer_of_the_old(tmp_path):
    problem, box = _box(tmp_path)
    c0, c1 = build(problem, secret="ahead")[:2]
    with box:
        box.run(*_args(c0), then=_args(c1))
        box.reload("import numpy as np\n" + SDPA_CORRECT.replace("return w @ V, w", "return 0 * (w @ V), w"))
        got = box.run(*_args(c1))
    assert got.status == "ok" and not np.any(got.answer["output"]), "the old source's answer was taken"


def test_a_memory_measured_case_is_never_run_alongside(tmp_path):
    from pathlib import Path

    tiled = Path(__file__).parents[1] / "reference" / "solutions" / "flash-attention" / "correct_tiled.py"
    problem, box = _box(tmp_path, tiled.read_text(), "flash-attention")
    cases = build(problem, secret="ahead")
    memory = [i for i, c in enumerate(cases) if c.program.get("memory")]
    assert memory and memory[0] > 0
    before = cases[memory[0] - 1]
    with box:
        box.run(*_args(before), then=_args(cases[memory[0]]))
        assert box.ahead is None  # sent in its own turn, so the control group's peak is its own
        assert box.run(*_args(cases[memory[0]])).status == "ok"


@pytest.mark.parametrize("reply", ["time-limit", "raised"])
def test_nothing_is_sent_ahead_after_a_case_that_did_not_answer(tmp_path, reply):
    """After a time-limit the judge may give up on the rest: nothing of theirs is queued."""
    body = SDPA_CORRECT.replace("    s = Q @", "    while True:\n        pass\n    s = Q @") \
        if reply == "time-limit" else SDPA_CORRECT.replace("    s = Q @", "    raise ValueError('no')\n    s = Q @")
    problem, box = _box(tmp_path, body)
    c0, c1 = build(problem, secret="ahead")[:2]
    with box:
        first = box.run(c0.index, c0.program, c0.inputs, 0.3, then=_args(c1))
        assert first.status == reply, first
        assert (box.ahead is None) == (reply == "time-limit")


def test_an_answer_sent_ahead_is_taken_only_by_that_very_case(tmp_path):
    """Found by a hostile review: the answer sent ahead was matched by case id alone."""
    import copy

    problem, box = _box(tmp_path)
    c0, c1 = build(problem, secret="ahead")[:2]
    other = copy.deepcopy(c1)
    other.inputs = {**other.inputs, "args": [a * 2 for a in other.inputs["args"][:3]] + other.inputs["args"][3:]}
    with box:
        box.run(*_args(c0), then=_args(c1))
        got = box.run(*_args(other))  # the same id, other inputs: c1's answer is dropped, not taken
        alone = box.run(*_args(other))
    _same(got, alone)


def test_a_case_whose_process_cannot_be_forked_is_a_runtime_error(monkeypatch):
    """Found by a hostile review: a fork refused (the submission at its process limit)
    raised in the trusted child and ended it."""
    import os

    from mhajudge.sandbox import fork as fork_mod, wire
    from mhajudge.sandbox.replies import ended_message

    forker = fork_mod.Forker(wire)
    fds = len(os.listdir("/proc/self/fd"))

    def refused():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(fork_mod.os, "fork", refused)
    for out in (forker.run_sent(wire.pack({"op": "case"}), 1.0, lambda msg, payload: ({}, None)),
                forker.run(lambda: ({}, None), 1.0)):
        assert out["reply"] is None and out["ended"] == {"status": "runtime-error", "why": "fork"}
        assert "could not be started" in ended_message(out["ended"], 1.0)[1]
    assert forker.spare is None
    assert len(os.listdir("/proc/self/fd")) == fds  # the pipes made for it were closed
