"""A new user, following only the README: list, new, a wrong answer, run, fix it,
run again, and `list` shows the problem solved (then history, stats, the solution)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

WRONG_BODY = """\
    scores = Q @ np.swapaxes(K, -1, -2)                 # forgot / sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights = weights / weights.sum(-1, keepdims=True)
    return weights @ V, weights
"""
FIXED_BODY = WRONG_BODY.replace("Q @ np.swapaxes(K, -1, -2)                 # forgot / sqrt(d_k)",
                                "Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])")


@pytest.fixture
def mhajudge(tmp_path):
    """The installed `mhajudge` command (what the README's install gives), in a fresh
    folder, with a fresh history under MHAJUDGE_HOME and recording on."""
    script = Path(sys.executable).with_name("mhajudge")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "mhajudge"]
    env = dict(os.environ, MHAJUDGE_HOME=str(tmp_path / "home"), CI="", MHAJUDGE_NO_RECORD="", COLUMNS="200")
    env.pop("MHAJUDGE_SECRET", None)
    work = tmp_path / "work"
    work.mkdir()

    def run(*args):
        proc = subprocess.run([*command, *args], capture_output=True, text=True, env=env, cwd=work, timeout=300)
        return proc.returncode, proc.stdout, proc.stderr

    run.work = work
    return run


def row(out: str, problem_id: str) -> str:
    """The table row of one problem in `mhajudge list`."""
    return next(line for line in out.splitlines() if re.match(rf"^│ {re.escape(problem_id)}\s+│", line))


def test_new_user_solves_sdpa(mhajudge):
    code, out, err = mhajudge("list")
    assert code == 0 and not err
    assert row(out, "sdpa").split("│")[-2].strip() == "-"  # nothing tried yet

    code, out, err = mhajudge("new", "sdpa")
    starter = mhajudge.work / "sdpa.py"
    assert code == 0 and "wrote sdpa.py" in out and starter.read_text().startswith("# mhajudge: sdpa")
    assert mhajudge("new", "sdpa")[0] == 2  # never overwritten without --force

    source = starter.read_text()
    assert "    raise NotImplementedError\n" in source
    starter.write_text(source.replace("    raise NotImplementedError\n", WRONG_BODY))
    code, out, err = mhajudge("run", "sdpa.py")
    assert code == 1 and "WRONG-ANSWER" in out and "diagnosis: no-scale" in out, out + err

    code, out, _ = mhajudge("list")
    assert re.search(r"wrong-answer \d+/18", row(out, "sdpa"))

    starter.write_text(source.replace("    raise NotImplementedError\n", FIXED_BODY))
    code, out, err = mhajudge("run", "sdpa.py")
    assert code == 0 and re.search(r"ACCEPTED\s+18/18 cases passed", out), out + err

    code, out, err = mhajudge("list")
    assert code == 0 and not err
    assert row(out, "sdpa").split("│")[-2].strip() == "accepted"

    code, out, _ = mhajudge("history", "sdpa")
    assert code == 0
    assert out.index("accepted 18/18") < out.index("wrong-answer") and "no-scale" in out

    code, out, _ = mhajudge("stats")
    assert code == 0 and re.search(r"solved\s+1/\d+", out) and re.search(r"no-scale\s+1", out)

    code, out, _ = mhajudge("show", "sdpa", "--solution")  # unlocked by the accepted run
    assert code == 0 and "Reference solution" in out
