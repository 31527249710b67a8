"""How long does judging a random problem take? The median wall time of
``mhajudge run`` on each random problem's reference solution, as a user runs it
(a fresh process: start-up, cases, child, thousands of calls, statistics).

    .venv/bin/python benchmarks/judge_random_problems.py [--repeats 7] [PROBLEM ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank  # noqa: E402

RANDOM_PROBLEMS = ["sampling", "attention-block"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problems", nargs="*", default=RANDOM_PROBLEMS)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "MHAJUDGE_NO_RECORD": "1"}
    env.pop("MHAJUDGE_SECRET", None)
    print(f"{'problem':<18}{'cases':>6}{'calls':>8}{'median s':>10}{'min s':>8}{'max s':>8}{'in calls s':>12}")
    for pid in args.problems:
        problem = bank.load_problem(pid)
        ref = bank.reference_dir() / f"{problem.reference}.py"
        times, report = [], None
        for _ in range(args.repeats):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "mhajudge", "run", str(ref), "--problem", pid,
                                  "--format", "json"], capture_output=True, text=True, env=env, cwd=ROOT)
            times.append(time.perf_counter() - t)
            report = json.loads(out.stdout)
            assert report["verdict"] == "accepted", report
        from mhajudge.cases import build

        calls = sum(len(c.inputs.get("vary", [None])) for c in build(problem))
        in_calls = sum(c["time_s"] or 0 for c in report["cases"])
        print(f"{pid:<18}{report['total']:>6}{calls:>8}{statistics.median(times):>10.2f}{min(times):>8.2f}"
              f"{max(times):>8.2f}{in_calls:>12.2f}")


if __name__ == "__main__":
    main()
