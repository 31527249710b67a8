"""How often is a correct solution rejected? Measured, not argued.

Judges the reference solution of each random problem (sampling, attention-block,
speculative-decoding)
under many different ``MHAJUDGE_SECRET`` values; each secret gives every hidden case
new seeds (new logits, new seed lists, new generators). A correct solution must be
accepted every time. Prints, per problem, how many runs and how many hidden cases were
judged, how many were rejected (with the failing cases), and the time taken.

    .venv/bin/python benchmarks/false_rejections.py [--secrets 200] [--jobs 2] [PROBLEM ...]

The statistics are designed for a per-case false-rejection rate below about 1e-6
(reference/shared/stats.py); 200 secrets judge about 4000 hidden cases.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank  # noqa: E402
from mhajudge.judge import judge_file  # noqa: E402

RANDOM_PROBLEMS = ["sampling", "attention-block", "speculative-decoding"]


def judge_one(problem_id: str, secret: str):
    problem = bank.load_problem(problem_id)
    ref = bank.reference_dir() / f"{problem.reference}.py"
    report = judge_file(ref, problem_id, secret=secret)
    hidden = [c for c in report.cases if c.group == "hidden"]
    failed = [f"{c.name}: {c.verdict}: {c.message}" for c in report.cases if c.verdict != "accepted"]
    return len(hidden), failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problems", nargs="*", default=RANDOM_PROBLEMS)
    parser.add_argument("--secrets", type=int, default=200, help="how many different MHAJUDGE_SECRET values")
    parser.add_argument("--jobs", type=int, default=1, help="judge this many runs at a time")
    args = parser.parse_args()
    os.environ["MHAJUDGE_NO_RECORD"] = "1"
    secrets = [f"false-rejection-{i}" for i in range(args.secrets)]
    total_rejected = 0
    print(f"{'problem':<18}{'runs':>6}{'hidden cases':>14}{'rejected runs':>15}{'rejected cases':>16}{'time s':>9}")
    for pid in args.problems:
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda s: judge_one(pid, s), secrets))
        elapsed = time.perf_counter() - start
        cases = sum(n for n, _ in results)
        runs_bad = sum(bool(f) for _, f in results)
        cases_bad = sum(len(f) for _, f in results)
        total_rejected += runs_bad
        print(f"{pid:<18}{len(results):>6}{cases:>14}{runs_bad:>15}{cases_bad:>16}{elapsed:>9.1f}")
        for secret, (_, failed) in zip(secrets, results):
            for line in failed:
                print(f"    secret {secret!r}: {line}")
    print(f"\nfalse rejections: {total_rejected} of {len(secrets) * len(args.problems)} runs")
    return 1 if total_rejected else 0


if __name__ == "__main__":
    sys.exit(main())
