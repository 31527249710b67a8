"""The ``mhajudge`` command ends without the interpreter's teardown (``cli.exit_now``),
and still does what an exit must: the exit status, every byte printed, the ``atexit``
handlers (a prestarted sandbox is closed there), and threads that are not daemons."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import orphaned_judge_children, run_cli

ROOT = Path(__file__).resolve().parents[1]
CORRECT = ROOT / "reference" / "solutions" / "sdpa" / "correct_einsum.py"


def _python(code: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, **kw)


def test_what_was_printed_and_the_atexit_handlers_survive_the_quick_exit():
    proc = _python(
        "import atexit, sys\n"
        "from mhajudge.cli import exit_now\n"
        "atexit.register(lambda: sys.stdout.write('atexit ran\\n'))\n"
        "sys.stdout.write('x' * 1_000_000)\n"  # more than a pipe holds: still in the buffer at exit
        "sys.stderr.write('to stderr')\n"
        "exit_now(3)\n"
        "print('after exit_now')\n")
    assert proc.returncode == 3
    assert proc.stdout == "x" * 1_000_000 + "atexit ran\n"
    assert proc.stderr == "to stderr"


@pytest.mark.parametrize("code, status, said", [("None", 0, ""), ("0", 0, ""), ("1", 1, ""), ("2", 2, ""),
                                                 ("True", 1, ""), ("261", 5, ""), ("'gone wrong'", 1, "gone wrong\n")])
def test_the_exit_status_is_the_one_sys_exit_gives(code, status, said):
    ours = _python(f"from mhajudge.cli import exit_now\nexit_now({code})")
    python = _python(f"import sys\nsys.exit({code})")
    assert (ours.returncode, ours.stderr) == (python.returncode, python.stderr) == (status, said)


def test_a_thread_that_is_not_a_daemon_is_waited_for():
    proc = _python(
        "import threading, time\n"
        "from mhajudge.cli import exit_now\n"
        "def later():\n"
        "    time.sleep(0.3)\n"
        "    print('the thread finished', flush=True)\n"
        "threading.Thread(target=later).start()\n"
        "exit_now(4)\n")
    assert proc.returncode == 4
    assert proc.stdout == "the thread finished\n"


def test_a_reader_that_went_away_is_not_an_error():
    # `mhajudge grade ... --format json | head -c 100`: the JSON is far longer than a pipe
    # holds; the head reads 100 bytes and leaves. No traceback, no "Exception ignored".
    shell = (f"{sys.executable} -m mhajudge run {CORRECT} --format json | head -c 100 >/dev/null; "
             "echo \"status ${PIPESTATUS[0]}\" >&2")
    proc = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "MHAJUDGE_NO_RECORD": "1"})
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] in ("status 0", "status 1"), proc.stderr


def test_a_run_that_fails_before_judging_still_closes_the_sandbox_started_for_it(tmp_path):
    # `run` starts the sandbox's child before it reads the arguments through (cli._prestart);
    # a file that does not exist ends the run before it takes that child over, so the child
    # is closed by the atexit handler, which the quick exit runs: nothing left, no folder left.
    code, out, err = run_cli("run", tmp_path / "missing.py", env={"TMPDIR": str(tmp_path)})
    assert code == 2 and "no such file" in err
    assert orphaned_judge_children() == []
    assert [p.name for p in tmp_path.iterdir()] == [], "the prestarted child's folder was left behind"


def test_a_judged_run_exits_with_its_verdict_and_prints_it_whole(cli):
    code, out, err = cli("run", CORRECT, "--format", "json", env={"MHAJUDGE_NO_RECORD": "1"})
    assert code == 0, err
    import json

    report = json.loads(out)  # the whole document: nothing lost in a buffer
    assert report["verdict"] == "accepted" and report["passed"] == report["total"] == 18
    wrong = ROOT / "reference" / "solutions" / "sdpa" / "no_scale.py"
    assert cli("run", wrong, env={"MHAJUDGE_NO_RECORD": "1"})[0] == 1
