"""Judging time of the follow-up problems (causal-attention, kv-cache, gqa, positional,
mha-backward, flash-attention).

For each problem: the median wall time of `mhajudge run` on its reference solution
over a few repeats (the whole command: start-up, building the cases, the sandboxed
runs, the report), and the median in-child time of its slowest cases.

    .venv/bin/python benchmarks/judge_problems_followup.py [--repeats 5] [PROBLEM ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank  # noqa: E402

PROBLEMS = ["causal-attention", "kv-cache", "gqa", "positional", "mha-backward", "flash-attention"]


def run_once(problem_id: str) -> tuple[float, dict]:
    reference = ROOT / "reference" / f"{bank.load_problem(problem_id).reference}.py"
    cmd = [sys.executable, "-m", "mhajudge", "run", str(reference), "--problem", problem_id, "--format", "json", "--no-record"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    report = json.loads(proc.stdout)
    if report["verdict"] != "accepted":
        raise SystemExit(f"{problem_id}: the reference got {report['verdict']}; fix that first")
    return wall, report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("problems", nargs="*", default=PROBLEMS)
    args = parser.parse_args()
    print(f"{'problem':<18}{'cases':>6}{'median wall':>14}{'min':>9}{'max':>9}   slowest cases (median time in the child)")
    for pid in args.problems:
        walls, case_times = [], {}
        for _ in range(args.repeats):
            wall, report = run_once(pid)
            walls.append(wall)
            for c in report["cases"]:
                case_times.setdefault(c["name"], []).append(c["time_s"] or 0.0)
        slow = sorted(((statistics.median(t), n) for n, t in case_times.items()), reverse=True)[:2]
        slow_text = ", ".join(f"{n} {t * 1000:.0f} ms" for t, n in slow)
        print(f"{pid:<18}{report['total']:>6}{statistics.median(walls):>12.2f} s{min(walls):>7.2f} s"
              f"{max(walls):>7.2f} s   {slow_text}")


if __name__ == "__main__":
    main()
