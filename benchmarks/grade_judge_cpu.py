"""What `grade` costs in the judge's own process, per submission: CPU seconds (its
comparisons, diagnoses, reports; not the sandboxes'), and the share of that spent
diagnosing, measured side by side with the sandboxes' wall time.

The submissions are the problem's solution files in ``reference/solutions/ID/`` (most
of them wrong, so diagnosis runs), judged one after the other in this process with the
mistakes' answers already cached (a warm-up pass first), as they are after the first
few submissions of a class.

    .venv/bin/python benchmarks/grade_judge_cpu.py [--problem sdpa] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="sdpa")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from mhajudge import bank, diagnose, grading
    from mhajudge.cases import build
    from mhajudge.sandbox.runner import Limits

    problem = bank.load_problem(args.problem)
    cases = build(problem, secret="benchmark")
    subs = [s for s in grading.find_submissions(ROOT / "reference" / "solutions" / args.problem)
            if s.file is not None and "torch" not in s.file.read_text()]
    spent = {"diagnose": 0.0}
    real = diagnose.diagnose_report

    def timed_diagnosis(*a, **k):
        t = time.process_time()
        try:
            return real(*a, **k)
        finally:
            spent["diagnose"] += time.process_time() - t

    diagnose.diagnose_report = timed_diagnosis  # judge.py imports it from there as it judges
    for s in subs:  # warm: every mistake's answer on every case computed once
        grading._row(s, problem, cases, Limits(), True)
    cpu, wall, diag = [], [], []
    for _ in range(args.rounds):
        spent["diagnose"] = 0.0
        c, w = time.process_time(), time.perf_counter()
        for s in subs:
            grading._row(s, problem, cases, Limits(), True)
        cpu.append((time.process_time() - c) / len(subs))
        wall.append((time.perf_counter() - w) / len(subs))
        diag.append(spent["diagnose"] / len(subs))
    c, w, d = (statistics.median(x) for x in (cpu, wall, diag))
    print(f"{len(subs)} submissions of {args.problem} ({len(cases)} cases), isolated, {args.rounds} rounds, medians")
    print(f"  per submission: {w * 1e3:.0f} ms wall; the judge's own CPU {c * 1e3:.0f} ms "
          f"({c / w:.0%} of the wall), of which diagnosis {d * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
