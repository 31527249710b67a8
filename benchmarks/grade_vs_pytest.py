"""`mhajudge grade` against the autograder a course writes by hand: pytest, once per submission.

The same submissions (round robin over the problem's solution files in
``reference/solutions/ID/``, most of them wrong) and the same cases (the judge's own,
built with one secret, written to an ``.npz`` the pytest file reads) are judged both
ways, in alternating rounds, and the wall times and their ratio are printed:

- pytest: ``python -m pytest -q test_autograder.py`` once per submission, one after
  the other (what a Gradescope-style autograder runs), comparing each answer with
  ``np.allclose`` at the problem's tolerance; no sandbox, no diagnosis;
- mhajudge: ``mhajudge grade DIR --problem ID --format json`` (isolated, as grading
  always is where bubblewrap exists; diagnoses included), with its default jobs.

    .venv/bin/python benchmarks/grade_vs_pytest.py [--count 40] [--problem sdpa] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AUTOGRADER = r'''
import importlib.util, json, os
from pathlib import Path
import numpy as np
import pytest

HERE = Path(__file__).parent
CASES = json.loads((HERE / "cases.json").read_text())
DATA = np.load(HERE / "cases.npz")


def _load():
    spec = importlib.util.spec_from_file_location("submission", os.environ["SUBMISSION"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def submission():
    return _load()


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(submission, case):
    i = case["index"]
    args = [DATA[f"{i}_arg{j}"] for j in range(case["nargs"])]
    kwargs = {k: DATA[f"{i}_kw_{k}"] for k in case["kwargs"]}
    got = getattr(submission, case["fn"])(*args, **kwargs)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(case["returns"])
    for name, value in zip(case["returns"], got):
        want = DATA[f"{i}_exp_{name}"]
        value = np.asarray(value)
        assert value.shape == want.shape
        assert np.allclose(value, want, atol=case["atol"], rtol=case["rtol"], equal_nan=True)
'''


def write_autograder(folder: Path, problem_id: str) -> None:
    import numpy as np

    from mhajudge import bank
    from mhajudge.cases import build

    problem = bank.load_problem(problem_id)
    cases, arrays = [], {}
    for c in build(problem, secret="benchmark"):
        if c.expect != "value" or c.program.get("kind", "call") != "call" or not c.expected:
            continue  # the plain autograder checks returned values of plain calls only
        args, kwargs = c.inputs.get("args", []), c.inputs.get("kwargs", {})
        if not all(isinstance(a, np.ndarray) for a in [*args, *kwargs.values()]):
            continue
        for j, a in enumerate(args):
            arrays[f"{c.index}_arg{j}"] = a
        for k, v in kwargs.items():
            arrays[f"{c.index}_kw_{k}"] = v
        for name, v in c.expected[0].items():
            arrays[f"{c.index}_exp_{name}"] = np.asarray(v)
        cases.append({"index": c.index, "name": c.name, "fn": c.fn, "nargs": len(args), "kwargs": list(kwargs),
                      "returns": list(c.expected[0]), "atol": c.tolerance["atol"], "rtol": c.tolerance["rtol"]})
    np.savez(folder / "cases.npz", **arrays)
    (folder / "cases.json").write_text(json.dumps(cases))
    (folder / "test_autograder.py").write_text(AUTOGRADER)
    return len(cases)


def make_submissions(folder: Path, problem: str, count: int) -> int:
    sources = sorted((ROOT / "reference" / "solutions" / problem).glob("*.py"))
    for i in range(count):
        shutil.copy(sources[i % len(sources)], folder / f"student{i:04d}.py")
    return len(sources)


def pytest_round(grader: Path, subs: list[Path]) -> tuple[float, int]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    passed = 0
    start = time.perf_counter()
    for sub in subs:
        env["SUBMISSION"] = str(sub)
        p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                            str(grader / "test_autograder.py")], capture_output=True, env=env, cwd=grader)
        passed += p.returncode == 0
    return time.perf_counter() - start, passed


def mhajudge_round(folder: Path, problem: str) -> tuple[float, int]:
    start = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "mhajudge", "grade", str(folder), "--problem", problem,
                        "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if p.returncode not in (0, 1):
        raise SystemExit(f"grade failed ({p.returncode}): {p.stderr[-2000:]}")
    rows = json.loads(p.stdout)["submissions"]
    return wall, sum(1 for r in rows if r["verdict"] == "accepted")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--problem", default="sdpa")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "subs").mkdir()
        (tmp / "grader").mkdir()
        kinds = make_submissions(tmp / "subs", args.problem, args.count)
        ncases = write_autograder(tmp / "grader", args.problem)
        subs = sorted((tmp / "subs").glob("*.py"))
        print(f"{args.count} submissions of {args.problem} ({kinds} distinct files), "
              f"{ncases} cases for pytest; {args.rounds} alternating rounds")
        ours, theirs = [], []
        for r in range(args.rounds):
            t_m, ok_m = mhajudge_round(tmp / "subs", args.problem)
            t_p, ok_p = pytest_round(tmp / "grader", subs)
            ours.append(t_m)
            theirs.append(t_p)
            print(f"  round {r + 1}: mhajudge grade {t_m:6.2f} s ({ok_m} accepted)   "
                  f"pytest per submission {t_p:6.2f} s ({ok_p} passed)   ratio {t_p / t_m:4.1f}x")
        m, p = statistics.median(ours), statistics.median(theirs)
        print(f"median: mhajudge grade {m:.2f} s ({m / args.count * 1e3:.0f} ms per submission), "
              f"pytest {p:.2f} s ({p / args.count * 1e3:.0f} ms per submission): grade is {p / m:.1f}x faster")


if __name__ == "__main__":
    main()
