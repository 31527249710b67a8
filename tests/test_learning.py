"""Learning aids (``show --hints``, ``show --solution`` gated on the history) and shell
completion of commands and problem ids."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from conftest import run_cli
from mhajudge import bank, learn
from mhajudge.history import Attempt, History


def home_env(home) -> dict:
    return {"MHAJUDGE_HOME": str(home), "CI": "", "MHAJUDGE_NO_RECORD": ""}


def test_hints_non_interactive_are_numbered_all_at_once(tmp_path):
    hints = bank.load_problem("sdpa").hints
    code, out, err = run_cli("show", "sdpa", "--hints", env={**home_env(tmp_path), "COLUMNS": "300"})
    assert code == 0, err
    for i, hint in enumerate(hints, 1):
        assert f"hint {i}/{len(hints)}: {hint}" in out
    assert "Enter for the next hint" not in out
    assert "Think about" not in out and "Worked sample" not in out  # only the hints


def test_hints_interactive_one_at_a_time_until_q():
    problem = bank.load_problem("sdpa")
    n = len(problem.hints)
    assert n >= 3, "this test needs a problem with at least three hints"
    con = Console(file=io.StringIO(), width=300)
    answers = iter(["", "q"])
    prompts = []

    def ask(prompt):
        prompts.append(prompt)
        return next(answers)

    assert learn.show_hints(problem, con, interactive=True, ask=ask) == 2
    out = con.file.getvalue()
    assert f"hint 1/{n}" in out and f"hint 2/{n}" in out and f"hint 3/{n}" not in out and len(prompts) == 2
    con = Console(file=io.StringIO(), width=300)
    prompts.clear()
    assert learn.show_hints(problem, con, interactive=True, ask=lambda p: prompts.append(p) or "") == n
    assert len(prompts) == n - 1  # no prompt after the last


def test_hints_stop_on_end_of_input():
    con = Console(file=io.StringIO(), width=300)

    def eof(prompt):
        raise EOFError

    assert learn.show_hints(bank.load_problem("sdpa"), con, interactive=True, ask=eof) == 1


def test_solution_is_refused_until_solved(tmp_path):
    env = {**home_env(tmp_path / "home"), "COLUMNS": "200"}
    code, out, err = run_cli("show", "sdpa", "--solution", env=env)
    assert code == 2 and "def scaled_dot_product_attention" not in out
    assert "shown once you have solved it" in err and "--force" in err and "Traceback" not in err
    # a samples-only pass or a wrong answer does not unlock it
    h = History(tmp_path / "home" / "history.sqlite3")
    h.record(Attempt("sdpa", "accepted", 2, 2, groups="sample"))
    h.record(Attempt("sdpa", "wrong-answer", 10, 18))
    h.record(Attempt("softmax", "accepted", 9, 9))
    assert run_cli("show", "sdpa", "--solution", env=env)[0] == 2
    h.record(Attempt("sdpa", "accepted", 18, 18))
    code, out, err = run_cli("show", "sdpa", "--solution", env=env)
    reference = (bank.reference_dir() / "sdpa.py").read_text()
    assert code == 0 and "Reference solution" in out
    assert "def scaled_dot_product_attention(Q, K, V, mask=None):" in out
    assert reference.splitlines()[0] in out


def test_solution_with_force_and_with_recording_off(tmp_path):
    env = {**home_env(tmp_path / "home"), "COLUMNS": "200", "CI": "true"}
    code, out, err = run_cli("show", "sdpa", "--solution", "--force", env=env)
    assert code == 0 and "def scaled_dot_product_attention" in out
    n = len(bank.load_problem("sdpa").hints)
    code, out, err = run_cli("show", "sdpa", "--hints", "--solution", "--force", env=env)
    assert code == 0 and f"hint 1/{n}" in out and out.index(f"hint {n}/{n}") < out.index("Reference solution")


def test_plain_show_still_ends_with_the_pitfalls(tmp_path):
    code, out, err = run_cli("show", "sdpa", env={"COLUMNS": "200"})
    assert code == 0 and "Think about" in out and "hint 1/" not in out and "Reference solution" not in out


# --- shell completion -------------------------------------------------------------------


def _script() -> Path:
    script = Path(sys.executable).with_name("mhajudge")
    if not script.exists():
        pytest.skip(f"no installed `mhajudge` script next to {sys.executable} (pip install -e .)")
    return script


def complete_bash(line: str) -> list[str]:
    """What bash completion offers for ``line`` (the cursor at its end)."""
    words = line.split(" ")
    env = dict(os.environ, _MHAJUDGE_COMPLETE="complete_bash", COMP_WORDS=line, COMP_CWORD=str(len(words) - 1))
    proc = subprocess.run([str(_script())], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_completion_of_problem_ids():
    ids = bank.problem_ids()
    assert complete_bash("mhajudge show sd") == ["sdpa"]
    assert complete_bash("mhajudge show ") == ids
    assert complete_bash("mhajudge practice sd") == ["sdpa"]
    assert complete_bash("mhajudge new sd") == ["sdpa"]
    assert complete_bash("mhajudge history sd") == ["sdpa"]
    assert complete_bash("mhajudge run x.py --problem sd") == ["sdpa"]
    assert complete_bash("mhajudge show zzz") == []


def test_completion_of_commands():
    assert complete_bash("mhajudge pr") == ["practice"]
    offered = complete_bash("mhajudge ")
    assert {"list", "show", "new", "run", "practice", "history", "stats"} <= set(offered)


def test_completion_zsh_carries_titles():
    env = dict(os.environ, _MHAJUDGE_COMPLETE="complete_zsh", _TYPER_COMPLETE_ARGS="mhajudge show sd")
    proc = subprocess.run([str(_script())], capture_output=True, text=True, env=env, timeout=60)
    title = bank.load_problem("sdpa").title
    assert proc.returncode == 0 and f'"sdpa":"{title}"' in proc.stdout


def test_completion_script_is_available():
    proc = subprocess.run([str(_script()), "--show-completion", "bash"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "_MHAJUDGE_COMPLETE=complete_bash" in proc.stdout


def test_complete_problem_id_function():
    assert bank.complete_problem_id("sdp") == [("sdpa", bank.load_problem("sdpa").title)]
    assert bank.complete_problem_id("nope") == []
