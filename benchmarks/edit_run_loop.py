"""The edit-run loop's speed, as ratios to ``python -c "import numpy"`` measured alongside.

Each round runs, one after the other: ``python -c "import numpy"``, the same with Typer,
Rich and PyYAML (the floor of a cold ``run``: the judge compares in NumPy and draws in
Rich; cold runs are also given as a ratio to it), ``mhajudge --help``,
``mhajudge list``, ``mhajudge run`` (cold) on a correct sdpa and a correct
mha-projected solution, and one *save* as ``run --watch`` judges it (the samples, then
every case), timed inside a watching process that has already judged the file once.
Medians over the rounds are printed with each one's ratio to the NumPy import. A warm-up
round (not counted) runs first, so compiled modules are cached as in an installed copy
(``PYTHONDONTWRITEBYTECODE`` is dropped for the commands measured).

With ``--before REV`` the same commands also run from a checkout of an earlier commit
(``git worktree``), interleaved in the same rounds, so before and after are measured
side by side on the same machine load; the earlier commit's watch judged every save
from scratch, which is what its "save" figure measures.

    .venv/bin/python benchmarks/edit_run_loop.py [--rounds 7] [--before 104fac3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = {"sdpa": "reference/solutions/sdpa/correct_einsum.py",
         "mha-projected": "reference/solutions/mha-projected/correct_einsum.py"}

# One save in a watching process: judged once already (the child warm), then the file
# changes and is judged as --watch judges it, samples first. Prints seconds.
WATCH_SAVE = r"""
import os, sys, time
from pathlib import Path
path = Path(sys.argv[1])
try:
    from mhajudge.session import Session
except ImportError:  # before the warm session: each save was judged from scratch
    Session = None
if Session is not None:
    s = Session(path)
    judge = lambda groups: s.judge(groups)
else:
    from mhajudge.judge import judge_file
    judge = lambda groups: judge_file(path, groups=groups)
judge("sample"); judge("all")
times = []
for i in range(int(sys.argv[2])):
    path.write_text(path.read_text() + f"\n# save {i}\n")
    t = time.perf_counter()
    judge("sample"); r = judge("all")
    times.append(time.perf_counter() - t)
    assert r.verdict == "accepted", r.verdict
times.sort()
print(times[len(times) // 2])
if Session is not None:
    s.close()
"""


FLOOR = "python -c 'import numpy, typer, rich'"  # with rich.table and yaml: what a cold run must load


def timed(cmd, env, cwd) -> float:
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(map(str, cmd))} failed: {p.stderr.decode()[-1500:]}")
    return wall


def commands(tree: Path, tmp: Path) -> dict:
    py = sys.executable
    out = {"python -c 'import numpy'": [py, "-c", "import numpy"],
           # The floor of any cold `run`: the judge compares with NumPy and draws with Rich.
           FLOOR: [py, "-c", "import numpy, typer, rich.console, rich.table, yaml"],
           "mhajudge --help": [py, "-m", "mhajudge", "--help"],
           "mhajudge list": [py, "-m", "mhajudge", "list"]}
    for problem, rel in FILES.items():
        if (tree / rel).is_file():
            out[f"mhajudge run ({problem}, cold)"] = [py, "-m", "mhajudge", "run", str(tree / rel), "--no-record"]
    copy = tmp / f"watched_{abs(hash(str(tree)))}.py"
    shutil.copy(tree / FILES["sdpa"], copy)
    out["a save under --watch (sdpa)"] = ("watch", copy)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--before", metavar="REV", help="also measure this earlier commit, side by side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees = {"now": ROOT}
        if args.before:
            old = tmp / "before"
            subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old), args.before], cwd=ROOT, check=True)
            trees[f"at {args.before}"] = old
        home = tmp / "home"
        try:
            plans = {label: commands(tree, tmp) for label, tree in trees.items()}
            times: dict = {label: {name: [] for name in plan} for label, plan in plans.items()}
            for _ in range(args.rounds + 1):  # round 0 warms up: .pyc files, the bank index
                for label, plan in plans.items():
                    env = {**os.environ, "PYTHONPATH": str(trees[label]), "MHAJUDGE_HOME": str(home),
                           "MHAJUDGE_NO_RECORD": "1"}
                    env.pop("MHAJUDGE_SECRET", None)
                    # As an install has them: compiled modules kept (the first round writes
                    # them). Without, each run compiles ~35 of ours again (80 ms here).
                    env.pop("PYTHONDONTWRITEBYTECODE", None)
                    for name, cmd in plan.items():
                        if isinstance(cmd, tuple):
                            p = subprocess.run([sys.executable, "-c", WATCH_SAVE, str(cmd[1]), "3"], env=env,
                                               cwd=trees[label], capture_output=True, text=True)
                            if p.returncode:
                                raise SystemExit(p.stderr[-1500:])
                            times[label][name].append(float(p.stdout.split()[-1]))
                        else:
                            times[label][name].append(timed(cmd, env, trees[label]))
            for label, by_name in times.items():
                by_name = {name: ts[1:] for name, ts in by_name.items()}
                base = statistics.median(by_name["python -c 'import numpy'"])
                floor = statistics.median(by_name[FLOOR])
                print(f"\n{label} ({args.rounds} rounds, medians):")
                for name, ts in by_name.items():
                    m = statistics.median(ts)
                    print(f"  {name:34s} {m * 1e3:7.0f} ms   {m / base:4.2f}x the NumPy import"
                          + (f"   {m / floor:4.2f}x the imports' floor" if "cold" in name else ""))
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "before")], cwd=ROOT)


if __name__ == "__main__":
    main()
