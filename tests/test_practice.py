"""The practice session through its API (fake clock, fake saves, fake judge, and once
with the real judge), its terminal loop with scripted keys, and the watch rounds."""

import io
import os
from pathlib import Path

import pytest
from rich.console import Console

from conftest import ROOT
from mhajudge import bank
from mhajudge.errors import JudgeError
from mhajudge.history import History
from mhajudge.practice import Keys, Practice, default_minutes, prepare_file, run_in_terminal
from mhajudge.results import CaseResult, Report
from mhajudge.watch import Watch, wait_for_save

SOLUTIONS = ROOT / "reference" / "solutions" / "sdpa"


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def advance(self, seconds):
        self.t += seconds


class FakeFile:
    """File signatures that change when the test says the file was saved."""

    def __init__(self):
        self.version = 0

    def save(self):
        self.version += 1

    def __call__(self, path):
        return self.version


class FakeJudge:
    """Reports whose verdict the test sets; remembers every call."""

    def __init__(self):
        self.verdict = "runtime-error"
        self.calls = []
        self.fail_with = None

    def __call__(self, file, problem_id, groups):
        self.calls.append(groups)
        if self.fail_with:
            raise JudgeError(self.fail_with)
        names = ["s1", "s2"] if groups == "sample" else ["s1", "s2", "h1", "h2", "h3"]
        report = Report(problem=problem_id, file=str(file))
        for n in names:
            report.cases.append(CaseResult(n, "sample" if n[0] == "s" else "hidden", self.verdict,
                                           message="" if self.verdict == "accepted" else "boom"))
        return report


@pytest.fixture
def sdpa():
    return bank.load_problem("sdpa")


@pytest.fixture
def session(sdpa, tmp_path):
    clock, saves, judge, recorded = FakeClock(), FakeFile(), FakeJudge(), []
    p = Practice(sdpa, tmp_path / "sol.py", minutes=20, clock=clock, judge=judge, signature=saves,
                 record=lambda report, solve_s: recorded.append((report.verdict, solve_s)) or "attempt",
                 settle_s=0.2)
    return p, clock, saves, judge, recorded


def test_start_judges_the_samples_once(session):
    p, clock, saves, judge, _ = session
    assert p.state == "ready" and p.remaining == 20 * 60
    p.start()
    assert p.state == "running" and judge.calls == ["sample"]
    assert p.samples.report.verdict == "runtime-error" and p.samples.count == 1
    clock.advance(5)
    assert p.tick() == [] and judge.calls == ["sample"]  # no save, no judging
    assert p.elapsed == 5 and p.remaining == 20 * 60 - 5


def test_a_save_is_judged_once_the_file_is_still(session):
    p, clock, saves, judge, _ = session
    p.start()
    judge.verdict = "wrong-answer"
    saves.save()
    assert p.tick() == ["changed"]            # seen, but the editor may still be writing
    clock.advance(0.1)
    saves.save()                              # a second write within the settle time
    assert p.tick() == ["changed"]
    clock.advance(0.1)
    assert p.tick() == []                     # 0.1 s still: not yet
    clock.advance(0.15)
    assert p.tick() == ["judged"]
    assert judge.calls == ["sample", "sample"] and p.samples.report.verdict == "wrong-answer"
    assert p.samples.count == 2 and p.samples.at_s == pytest.approx(0.35)
    clock.advance(1)
    assert p.tick() == []                     # judged once per save


def test_submit_judges_everything_and_records_the_time_taken(session):
    p, clock, saves, judge, recorded = session
    p.start()
    clock.advance(7 * 60 + 42)
    judge.verdict = "accepted"
    report = p.submit()
    assert judge.calls == ["sample", "all"] and report.total == 5 and report.verdict == "accepted"
    assert p.state == "done" and p.outcome == "submitted" and p.elapsed_s == 462
    assert recorded == [("accepted", 462)] and p.attempt == "attempt"
    clock.advance(100)
    assert p.elapsed == 462 and p.tick() == []  # the clock stopped
    with pytest.raises(RuntimeError):
        p.submit()


def test_time_running_out_submits_the_file_as_it_is(session):
    p, clock, saves, judge, recorded = session
    p.start()
    judge.verdict = "wrong-answer"
    clock.advance(19 * 60 + 59)
    assert p.tick() == [] and p.state == "running" and p.remaining == 1
    clock.advance(1)
    assert p.tick() == ["expired"]
    assert p.outcome == "expired" and p.state == "done" and judge.calls == ["sample", "all"]
    assert recorded == [("wrong-answer", 1200)] and p.remaining == 0


def test_quitting_judges_and_records_nothing(session):
    p, clock, saves, judge, recorded = session
    p.start()
    clock.advance(30)
    p.quit()
    assert p.state == "done" and p.outcome == "quit" and p.elapsed_s == 30
    assert judge.calls == ["sample"] and recorded == [] and p.final_report is None


def test_ctrl_c_while_judging_the_submission_gives_up(session):
    p, clock, saves, judge, recorded = session
    p.start()

    def interrupted(file, problem_id, groups):
        raise KeyboardInterrupt

    p.judge = interrupted
    with pytest.raises(KeyboardInterrupt):
        p.submit()
    p.quit()
    assert p.state == "done" and p.outcome == "quit" and recorded == []


def test_judge_errors_are_shown_not_raised(session):
    p, clock, saves, judge, recorded = session
    p.start()
    judge.fail_with = "no such file: sol.py"
    saves.save()
    p.tick()
    clock.advance(1)
    assert p.tick() == ["judged"] and p.state == "running"
    assert p.samples.report is None and p.samples.error == "no such file: sol.py"
    p.submit()
    assert p.state == "done" and p.final_error == "no such file: sol.py" and recorded == []


def test_hints_come_one_at_a_time(session, sdpa):
    p = session[0]
    shown = [p.next_hint() for _ in range(len(sdpa.hints) + 1)]
    assert shown == sdpa.hints + [None] and p.hints_shown == len(sdpa.hints)


def test_minutes_must_be_positive(sdpa, tmp_path):
    with pytest.raises(JudgeError, match="--minutes must be positive"):
        Practice(sdpa, tmp_path / "x.py", minutes=0)
    assert default_minutes(sdpa) == 20


def test_prepare_file_never_overwrites(sdpa, tmp_path):
    first, created = prepare_file(sdpa, directory=tmp_path)
    assert created and first == tmp_path / "sdpa_practice.py"
    assert first.read_text().startswith("# mhajudge: sdpa\n") and "raise NotImplementedError" in first.read_text()
    first.write_text("# my earlier work\n")
    second, created = prepare_file(sdpa, directory=tmp_path)
    assert created and second == tmp_path / "sdpa_practice_2.py" and first.read_text() == "# my earlier work\n"
    assert prepare_file(sdpa, directory=tmp_path)[0] == tmp_path / "sdpa_practice_3.py"
    mine, created = prepare_file(sdpa, first)
    assert mine == first and not created and first.read_text() == "# my earlier work\n"
    new, created = prepare_file(sdpa, tmp_path / "new.py")
    assert created and "def scaled_dot_product_attention(Q, K, V, mask=None):" in new.read_text()
    with pytest.raises(JudgeError, match="is a folder"):
        prepare_file(sdpa, tmp_path)


def _save(path: Path, source: Path, bump_ns: int) -> None:
    """Write a file and make sure its mtime moves, whatever the filesystem's resolution."""
    path.write_text(source.read_text())
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_ns))


def test_practice_with_the_real_judge_and_real_saves(sdpa, tmp_path, monkeypatch):
    """Wrong, then right, through real files and the real judge; recorded in a real history."""
    monkeypatch.setenv("MHAJUDGE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CI", "")
    monkeypatch.setenv("MHAJUDGE_NO_RECORD", "")
    clock = FakeClock()
    path, _ = prepare_file(sdpa, tmp_path / "sol.py")
    p = Practice(sdpa, path, minutes=20, clock=clock, settle_s=0)
    p.start()
    assert p.samples.report.verdict == "runtime-error"  # the starter raises NotImplementedError
    _save(path, SOLUTIONS / "no_scale.py", 10**9)
    clock.advance(60)
    assert p.tick() == ["changed", "judged"]
    assert p.samples.report.verdict == "wrong-answer" and p.samples.report.total == 2
    assert {c.group for c in p.samples.report.cases} == {"sample"}
    _save(path, ROOT / "examples" / "sdpa_correct.py", 2 * 10**9)
    clock.advance(120)
    assert p.tick() == ["changed", "judged"] and p.samples.report.verdict == "accepted"
    report = p.submit()
    assert report.verdict == "accepted" and any(c.group == "hidden" for c in report.cases)
    [attempt] = History(tmp_path / "home" / "history.sqlite3").attempts()
    assert (attempt.mode, attempt.verdict, attempt.solve_s, attempt.groups) == ("practice", "accepted", 180, "all")
    assert attempt.id == p.attempt.id


class ScriptedKeys:
    """Keys for run_in_terminal: one entry per poll (None for no key)."""

    def __init__(self, keys, clock=None, step=1.0):
        self.keys, self.clock, self.step = list(keys), clock, step

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, timeout):
        if self.clock:
            self.clock.advance(self.step)
        return self.keys.pop(0) if self.keys else None


def _console():
    return Console(file=io.StringIO(), width=120, force_terminal=False, color_system=None)


def test_terminal_loop_hint_then_submit(session):
    p, clock, saves, judge, recorded = session
    judge.verdict = "accepted"
    con = _console()
    code = run_in_terminal(p, con, keys=ScriptedKeys([None, "h", None, "s"], clock), tick_s=0)
    out = con.file.getvalue()
    assert code == 0 and p.outcome == "submitted" and recorded == [("accepted", 4.0)]
    assert "Implement single-head" in out                 # the statement
    assert f"hint 1/{len(p.problem.hints)}: {p.problem.hints[0]}" in out
    assert "ACCEPTED" in out and "submitted after 0:04 of 20:00" in out and "recorded in your history" in out


def test_terminal_loop_quit_and_time_out(session, sdpa, tmp_path):
    p, clock, saves, judge, recorded = session
    con = _console()
    assert run_in_terminal(p, con, keys=ScriptedKeys(["q"], clock), tick_s=0) == 1
    assert "gave up after 0:01" in con.file.getvalue() and recorded == []
    clock2, judge2, rec2 = FakeClock(), FakeJudge(), []
    p2 = Practice(sdpa, tmp_path / "b.py", minutes=0.05, clock=clock2, judge=judge2, signature=FakeFile(),
                  record=lambda r, s: rec2.append(s) or None)
    con = _console()
    assert run_in_terminal(p2, con, keys=ScriptedKeys([], clock2, step=1.0), tick_s=0) == 1
    assert "time is up; judged as it was after 0:03 of 0:03" in con.file.getvalue()
    assert "not recorded" in con.file.getvalue() and rec2 == [3.0]


def test_keys_from_a_pipe_take_the_first_letter_of_a_line():
    r, w = os.pipe()
    with os.fdopen(r) as reader, Keys(reader) as keys:
        assert keys.read(0.01) is None
        os.write(w, b"S\n")
        assert keys.read(1) == "s"
        os.write(w, b"\n")
        assert keys.read(1) is None
        os.close(w)
        assert keys.read(1) is None and keys.eof


# --- watch --------------------------------------------------------------------------------


class WatchJudge:
    def __init__(self, on_sample=None):
        self.calls, self.on_sample = [], on_sample
        self.verdict = "wrong-answer"

    def __call__(self, file, problem_id, groups, hide):
        self.calls.append((groups, hide))
        if groups == "sample" and self.on_sample:
            self.on_sample()
        return _report(problem_id, file, groups, self.verdict)


def _report(problem_id, file, groups, verdict):
    report = Report(problem=problem_id or "sdpa", file=str(file))
    for n in (["s1"] if groups == "sample" else ["s1", "h1"]):
        report.cases.append(CaseResult(n, "sample" if n[0] == "s" else "hidden", verdict))
    return report


def test_watch_round_shows_samples_then_everything_and_records(tmp_path):
    judge, recorded, con = WatchJudge(), [], _console()
    w = Watch(tmp_path / "f.py", None, con, judge=judge, record=recorded.append, signature=lambda p: 1, hide=True)
    assert w.round() == 1
    assert judge.calls == [("sample", True), ("all", True)]
    assert [r.total for r in recorded] == [2]
    out = con.file.getvalue()
    assert out.index("samples judged; judging the hidden cases") < out.index("every case judged")
    judge.verdict = "accepted"
    assert w.round() == 0 and w.rounds == 2 and len(recorded) == 2


def test_watch_round_starts_over_when_saved_during_the_samples(tmp_path):
    saves = FakeFile()
    judge, recorded = WatchJudge(on_sample=saves.save), []
    w = Watch(tmp_path / "f.py", "sdpa", _console(), judge=judge, record=recorded.append, signature=saves)
    w.round()
    assert judge.calls == [("sample", False)] and recorded == []  # the hidden stage was skipped


def test_watch_round_reports_a_judge_error(tmp_path):
    def judge(*args):
        raise JudgeError("no such file: f.py", hint="give the path of a .py file")

    con = _console()
    assert Watch(tmp_path / "f.py", None, con, judge=judge, record=None).round() == 2
    assert "error: no such file: f.py" in con.file.getvalue()


def test_watch_shows_a_hostile_file_name_and_error_escaped(tmp_path):
    """A file named with terminal escapes (a hostile pass, 2026-12-04) is shown as text."""
    def judge(*args):
        raise JudgeError("boom \x1b]0;PWN\x07\x1b[31m red", hint="\x1b[2J")

    con = _console()
    name = tmp_path / "w\x1b]0;PWN\x07\x1b[31m.py"
    Watch(name, None, con, judge=judge, record=None).round()
    out = con.file.getvalue()
    assert "\x1b" not in out and "\x07" not in out and "\\x1b" in out  # the name's ESC shown as \x1b


def test_wait_for_save_waits_for_a_change_that_settles():
    clock = FakeClock()
    sigs = iter([1, 1, 2, 3, 3, 3, 3])

    def sleep(s):
        clock.advance(s)

    assert wait_for_save(Path("x"), 1, signature=lambda p: next(sigs), sleep=sleep, clock=clock,
                         poll_s=0.1, settle_s=0.15) == 3


def test_run_watch_rejects_json(tmp_path):
    from conftest import run_cli

    code, out, err = run_cli("run", ROOT / "examples" / "sdpa_correct.py", "--watch", "--format", "json")
    assert code == 2 and "--watch shows tables" in err and not out.strip()
