"""The history database: where it lives, what it records, several writers at once,
schema migrations, and a broken database degrading to one warning line."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from mhajudge import history
from mhajudge.history import LATEST, Attempt, History, HistoryError

CORRECT = ROOT / "examples" / "sdpa_correct.py"
WRONG = ROOT / "examples" / "sdpa_wrong.py"


def recording_env(home) -> dict:
    """Recording on: this home, and neither CI nor MHAJUDGE_NO_RECORD (empty means unset)."""
    return {"MHAJUDGE_HOME": str(home), "CI": "", "MHAJUDGE_NO_RECORD": ""}


@pytest.fixture
def recording(monkeypatch, tmp_path):
    for k, v in recording_env(tmp_path / "home").items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(history, "_warned", False)
    return tmp_path / "home"


def warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning" in line]


# --- where, and whether --------------------------------------------------------------


def test_data_dir_follows_mhajudge_home_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("MHAJUDGE_HOME", str(tmp_path / "mine"))
    assert history.db_path() == tmp_path / "mine" / "history.sqlite3"
    monkeypatch.delenv("MHAJUDGE_HOME")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
        assert history.data_dir() == tmp_path / "xdg" / "mhajudge"
        monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the XDG spec: only absolute paths
        monkeypatch.setenv("HOME", str(tmp_path / "h"))
        assert history.data_dir() == tmp_path / "h" / ".local" / "share" / "mhajudge"
        monkeypatch.delenv("XDG_DATA_HOME")
        assert history.data_dir() == tmp_path / "h" / ".local" / "share" / "mhajudge"


def test_pytest_session_records_into_a_temp_home():
    home = os.environ["MHAJUDGE_HOME"]
    assert home and Path(home).resolve() != (Path.home() / ".local" / "share" / "mhajudge").resolve()
    assert "mhajudge-home" in home


@pytest.mark.parametrize("env, flag, on", [
    ({}, False, True),
    ({}, True, False),
    ({"MHAJUDGE_NO_RECORD": "1"}, False, False),
    ({"MHAJUDGE_NO_RECORD": "0"}, False, True),
    ({"CI": "true"}, False, False),
    ({"CI": "1"}, False, False),
    ({"CI": ""}, False, True),
    ({"CI": "false"}, False, True),
])
def test_recording_switches(monkeypatch, env, flag, on):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MHAJUDGE_NO_RECORD", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert history.recording_enabled(flag) is on


# --- recording and reading -------------------------------------------------------------


def test_record_and_read_back(tmp_path):
    h = History(tmp_path / "h" / "history.sqlite3")
    assert h.attempts() == [] and h.best() == {} and not h.path.exists()  # reading creates nothing
    a = h.record(Attempt("sdpa", "wrong-answer", 2, 18, file="a.py", diagnoses=["no-scale"], created_at=100.0))
    b = h.record(Attempt("sdpa", "accepted", 18, 18, mode="practice", solve_s=400.0, created_at=200.0))
    h.record(Attempt("sdpa", "accepted", 18, 18, mode="practice", solve_s=300.0, created_at=300.0))
    h.record(Attempt("softmax", "accepted", 2, 2, groups="sample", created_at=400.0))
    h.record(Attempt("softmax", "wrong-answer", 5, 9, created_at=500.0))
    assert a.id == 1 and b.id == 2
    assert [x.created_at for x in h.attempts()] == [500.0, 400.0, 300.0, 200.0, 100.0]
    assert [x.verdict for x in h.attempts("sdpa", limit=2)] == ["accepted", "accepted"]
    assert h.attempts("sdpa")[-1].diagnoses == ["no-scale"]
    best = h.best()
    assert best["sdpa"].solved and best["sdpa"].best_solve_s == 300.0 and best["sdpa"].attempts == 3
    # a samples-only "accepted" does not solve a problem; the best full attempt shows instead
    assert not best["softmax"].solved
    assert (best["softmax"].verdict, best["softmax"].passed, best["softmax"].total) == ("wrong-answer", 5, 9)
    assert h.solved("sdpa") and not h.solved("softmax") and not h.solved("kv-cache")
    assert h.diagnosis_counts() == [("no-scale", 1)]
    with sqlite3.connect(h.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == LATEST


def test_best_picks_the_attempt_with_most_cases_passed(tmp_path):
    h = History(tmp_path / "history.sqlite3")
    for verdict, passed in [("runtime-error", 0), ("wrong-answer", 12), ("time-limit", 3)]:
        h.record(Attempt("sdpa", verdict, passed, 18))
    best = h.best()["sdpa"]
    assert (best.verdict, best.passed, best.solved) == ("wrong-answer", 12, False)


def test_run_records_every_run_with_its_details(tmp_path):
    home = tmp_path / "home"
    env = recording_env(home)
    assert run_cli("run", WRONG, env=env)[0] == 1
    assert run_cli("run", CORRECT, "--samples", env=env)[0] == 0
    code, out, err = run_cli("run", CORRECT, "--format", "json", env=env)
    assert code == 0 and json.loads(out)["verdict"] == "accepted" and not warnings(err)
    attempts = History(home / "history.sqlite3").attempts()
    assert [(a.verdict, a.groups) for a in attempts] == [("accepted", "all"), ("accepted", "sample"),
                                                         ("wrong-answer", "all")]
    wrong = attempts[-1]
    assert wrong.problem == "sdpa" and wrong.diagnoses == ["no-scale"] and wrong.total > wrong.passed
    assert wrong.file == str(WRONG.resolve()) and len(wrong.file_hash) == 16
    assert wrong.file_hash != attempts[0].file_hash and wrong.duration_s > 0 and wrong.mode == "run"
    code, out, _ = run_cli("history", "sdpa", "--format", "json", env=env)
    assert code == 0 and [a["verdict"] for a in json.loads(out)["attempts"]] == ["accepted", "accepted",
                                                                                 "wrong-answer"]


@pytest.mark.parametrize("how", ["flag", "env", "ci"])
def test_recording_can_be_turned_off(tmp_path, how):
    home = tmp_path / "home"
    env = recording_env(home)
    args = ["run", CORRECT, "--samples"]
    if how == "flag":
        args.append("--no-record")
    elif how == "env":
        env["MHAJUDGE_NO_RECORD"] = "1"
    else:
        env["CI"] = "true"
    code, _, err = run_cli(*args, env=env)
    assert code == 0 and not warnings(err)
    assert not (home / "history.sqlite3").exists()


# --- several writers at once -------------------------------------------------------------

WRITER = """
import sys
from mhajudge.history import Attempt, History
h = History(sys.argv[1])
for i in range(int(sys.argv[3])):
    h.record(Attempt("sdpa", "wrong-answer" if i % 2 else "accepted", i, 30, file=sys.argv[2]))
"""


def test_many_processes_record_at_once(tmp_path):
    db = tmp_path / "new" / "history.sqlite3"  # nobody has created it yet: they race to
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"w{k}", "40"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(6)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    attempts = History(db).attempts()
    assert len(attempts) == 6 * 40
    assert len({a.id for a in attempts}) == 240
    assert {a.file for a in attempts} == {f"w{k}" for k in range(6)}
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA user_version").fetchone()[0] == LATEST


def test_concurrent_cli_runs_are_all_recorded(tmp_path):
    home = tmp_path / "home"
    env = dict(os.environ, **recording_env(home))
    env.pop("MHAJUDGE_SECRET", None)
    procs = [subprocess.Popen([sys.executable, "-m", "mhajudge", "run", CORRECT if k % 2 else WRONG],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
             for k in range(4)]
    for k, p in enumerate(procs):
        _, err = p.communicate(timeout=300)
        assert p.returncode == (0 if k % 2 else 1) and not warnings(err), err
    verdicts = sorted(a.verdict for a in History(home / "history.sqlite3").attempts())
    assert verdicts == ["accepted", "accepted", "wrong-answer", "wrong-answer"]


# --- schema versions ---------------------------------------------------------------------

V1_SCHEMA = """
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY, problem TEXT NOT NULL, file TEXT NOT NULL DEFAULT '',
    file_hash TEXT NOT NULL DEFAULT '', verdict TEXT NOT NULL, passed INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, duration_s REAL,
    diagnoses TEXT NOT NULL DEFAULT '[]');
"""


def make_v1(path: Path) -> None:
    """A history as version 1 of mhajudge left it (no mode, groups or solve_s)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    con.execute("INSERT INTO attempts (problem, file, verdict, passed, total, created_at, duration_s, diagnoses) "
                "VALUES ('sdpa', 'old.py', 'wrong-answer', 2, 18, 1000.0, 0.5, '[\"no-scale\"]')")
    con.execute("INSERT INTO attempts (problem, file, verdict, passed, total, created_at, duration_s) "
                "VALUES ('sdpa', 'old.py', 'accepted', 18, 18, 2000.0, 0.4)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()


def test_an_older_schema_is_migrated_without_losing_attempts(tmp_path):
    db = tmp_path / "history.sqlite3"
    make_v1(db)
    h = History(db)
    old = h.attempts()
    assert [(a.verdict, a.passed, a.mode, a.groups, a.solve_s) for a in old] == [
        ("accepted", 18, "run", "all", None), ("wrong-answer", 2, "run", "all", None)]
    assert old[1].diagnoses == ["no-scale"] and h.version() == LATEST
    h.record(Attempt("sdpa", "accepted", 18, 18, mode="practice", solve_s=60.0))
    assert len(h.attempts()) == 3 and h.best()["sdpa"].best_solve_s == 60.0


def test_an_older_schema_is_migrated_once_by_racing_processes(tmp_path):
    db = tmp_path / "history.sqlite3"
    make_v1(db)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(db), f"w{k}", "5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(4)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert len(History(db).attempts()) == 2 + 20 and History(db).version() == LATEST


def test_list_reads_an_older_schema(tmp_path):
    home = tmp_path / "home"
    make_v1(home / "history.sqlite3")
    code, out, err = run_cli("list", env={**recording_env(home), "COLUMNS": "200"})
    assert code == 0 and not warnings(err)
    assert "accepted" in next(line for line in out.splitlines() if " sdpa " in line)


def test_a_newer_schema_is_left_alone_and_still_used(tmp_path):
    """A history written by a later mhajudge (extra columns, higher version) keeps working."""
    db = tmp_path / "history.sqlite3"
    History(db).record(Attempt("sdpa", "wrong-answer", 1, 18))
    with sqlite3.connect(db) as con:
        con.execute("ALTER TABLE attempts ADD COLUMN future TEXT NOT NULL DEFAULT 'x'")
        con.execute(f"PRAGMA user_version = {LATEST + 5}")
    h = History(db)
    h.record(Attempt("sdpa", "accepted", 18, 18))
    assert [a.verdict for a in h.attempts()] == ["accepted", "wrong-answer"] and h.version() == LATEST + 5


def test_every_migration_step_is_recorded_in_user_version(tmp_path):
    db = tmp_path / "history.sqlite3"
    History(db).record(Attempt("sdpa", "accepted", 1, 1))
    with sqlite3.connect(db) as con:
        columns = [r[1] for r in con.execute("PRAGMA table_info(attempts)")]
    assert set(history.COLUMNS) <= set(columns)


# --- a broken database: one warning, same exit code ---------------------------------------


def test_a_corrupt_database_is_a_warning_not_a_crash(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "history.sqlite3").write_bytes(b"this is not an SQLite database\n" * 200)
    env = {**recording_env(home), "COLUMNS": "200"}
    code, out, err = run_cli("run", CORRECT, env=env)
    assert code == 0 and "ACCEPTED" in out and "Traceback" not in err
    assert len(warnings(err)) == 1 and len(err.strip().splitlines()) == 1, err
    assert "history.sqlite3 is not a readable SQLite database" in err and "move it aside" in err
    code, out, err = run_cli("run", WRONG, env=env)
    assert code == 1 and len(warnings(err)) == 1  # the exit code is the verdict's, as always
    for args in (["list"], ["history"], ["stats"]):
        code, out, err = run_cli(*args, env=env)
        assert code == 0 and len(warnings(err)) == 1 and "Traceback" not in err, (args, err)
    code, out, err = run_cli("list", env=env)
    assert " sdpa " in out and "accepted" not in out


def test_a_damaged_page_is_a_warning_not_a_crash(tmp_path, recording):
    db = recording / "history.sqlite3"
    History(db).record(Attempt("sdpa", "accepted", 1, 1))
    with sqlite3.connect(db) as con:
        con.executemany("INSERT INTO attempts (problem, verdict, file, created_at) VALUES ('sdpa', 'accepted', ?, 1.0)",
                        [("x" * 200,)] * 200)
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    data[4096:4096 * 3] = b"\xff" * (4096 * 2)  # the attempts table's pages
    db.write_bytes(bytes(data))
    with pytest.raises(HistoryError):
        History(db).attempts()
    assert history.safe("attempts", default=[]) == []  # warns instead


def test_library_read_of_corrupt_database_raises_history_error(tmp_path, capsys, recording):
    recording.mkdir(parents=True)
    (recording / "history.sqlite3").write_text("garbage" * 100)
    with pytest.raises(HistoryError):
        History().record(Attempt("sdpa", "accepted"))
    assert history.safe("best", default={}) == {}
    assert history.safe("attempts", default=[]) == []  # a second failure: no second warning
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mhajudge: warning: history unavailable:")


def test_an_unwritable_home_is_a_warning_not_a_crash(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, out, err = run_cli("run", CORRECT, "--samples", env=recording_env(blocker / "home"))
    assert code == 0 and "ACCEPTED" in out
    assert len(warnings(err)) == 1 and f"cannot create {blocker / 'home'}" in err and "MHAJUDGE_HOME" in err


def _without_root_file_powers():
    """As root, drop the capabilities that ignore file modes (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH) from the bounding set, so the child obeys chmod like a user."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def test_a_read_only_database_is_a_warning_and_still_readable(tmp_path):
    """A real read-only history: a database file and folder without write permission."""
    home = tmp_path / "home"
    db = home / "history.sqlite3"
    History(db).record(Attempt("sdpa", "accepted", 18, 18))
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    os.chmod(db, 0o444)
    os.chmod(home, 0o555)
    env = dict(os.environ, **recording_env(home), COLUMNS="200")
    env.pop("MHAJUDGE_SECRET", None)
    kwargs = {"preexec_fn": _without_root_file_powers} if os.geteuid() == 0 else {}

    def cli(*args):
        p = subprocess.run([sys.executable, "-m", "mhajudge", *map(str, args)], capture_output=True,
                           text=True, env=env, timeout=300, **kwargs)
        return p.returncode, p.stdout, p.stderr

    try:
        probe = subprocess.run([sys.executable, "-c", f"open({str(db)!r}, 'a')"], capture_output=True, **kwargs)
        if probe.returncode == 0:
            pytest.skip("cannot make a file read-only for this user here (root without a droppable CAP_DAC_OVERRIDE)")
        code, out, err = cli("run", CORRECT, "--samples")
        assert code == 0 and "ACCEPTED" in out, err
        assert len(warnings(err)) == 1 and "readonly database" in err and "MHAJUDGE_NO_RECORD" in err, err
        code, out, err = cli("list")  # reading still works: the best is shown, no warning
        assert code == 0 and not warnings(err), err
        assert "accepted" in next(line for line in out.splitlines() if " sdpa " in line)
        code, out, err = cli("show", "sdpa", "--solution")  # the solved problem's solution unlocks
        assert code == 0 and "def scaled_dot_product_attention" in out, err
    finally:
        os.chmod(home, 0o755)
        os.chmod(db, 0o644)
    assert len(History(db).attempts()) == 1  # nothing was written


# --- list stays fast ----------------------------------------------------------------------


def test_list_imports_no_numpy_even_with_a_history(tmp_path):
    home = tmp_path / "home"
    h = History(home / "history.sqlite3")
    for i in range(300):
        h.record(Attempt("sdpa", "wrong-answer", i % 18, 18, diagnoses=["no-scale"]))
    env = dict(os.environ, **recording_env(home), COLUMNS="200")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mhajudge", "list"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and "wrong-answer 17/18" in proc.stdout
    imported = [line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "sqlite3" in imported and "mhajudge.history" in imported
    assert not [m for m in imported if m.split(".")[0] == "numpy"]


def test_a_mistake_in_one_file_counts_once_however_often_it_is_judged(tmp_path):
    """A stranger's stats said 'masked-row-nan 8 times' for one file judged with --samples,
    --case, -x and again unchanged: a mistake counts once per version of a file."""
    h = History(tmp_path / "h.sqlite3")
    for groups in ("all", "sample", "partial", "all"):
        h.record(Attempt("sdpa", "wrong-answer", 2, 18, file="a.py", file_hash="v1", diagnoses=["no-scale"],
                         groups=groups))
    h.record(Attempt("sdpa", "wrong-answer", 2, 18, file="a.py", file_hash="v2", diagnoses=["no-scale"]))
    h.record(Attempt("sdpa", "wrong-answer", 2, 18, file="b.py", diagnoses=["no-scale", "mask-inverted"]))
    assert h.diagnosis_counts() == [("no-scale", 3), ("mask-inverted", 1)]


def test_stats_tell_full_runs_from_partial_ones(tmp_path):
    from io import StringIO

    from rich.console import Console

    from mhajudge.progress import stats_renderables

    attempts = [Attempt("sdpa", "accepted", 2, 2, groups="sample"), Attempt("sdpa", "accepted", 18, 18),
                Attempt("sdpa", "wrong-answer", 1, 18, groups="partial")]
    con = Console(file=StringIO(), width=80)
    for part in stats_renderables(bank_problems(), {}, attempts, [("unstable-softmax", 1)], width=80):
        con.print(part)
    out = con.file.getvalue()
    assert "1 full run, 1 accepted; 2 of some cases only" in out and "unstable-softmax" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def bank_problems():
    from mhajudge import bank

    return bank.load_all()
