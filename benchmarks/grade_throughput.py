"""Grading throughput: N generated submissions with --jobs 1 and --jobs 2.

Prints submissions per second for each, the speed-up, and where the CPU time went:
the judge process itself versus the children that run the candidates' code.

    .venv/bin/python benchmarks/grade_throughput.py [--count 200] [--problem sdpa] [--isolate]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge.grading import grade  # noqa: E402


def make_submissions(folder: Path, problem: str, count: int) -> None:
    """Copies of the problem's solution files in reference/solutions/ (correct and wrong), round robin."""
    sources = sorted((ROOT / "reference" / "solutions" / problem).glob("*.py"))
    for i in range(count):
        shutil.copy(sources[i % len(sources)], folder / f"student{i:04d}.py")


def cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--problem", default="sdpa")
    parser.add_argument("--isolate", action="store_true", help="each submission inside bubblewrap (grade's default)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp()) / "submissions"
    folder.mkdir()
    make_submissions(folder, args.problem, args.count)
    rates = {}
    for jobs in (1, 2):
        self0, kids0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        result = grade(folder, args.problem, jobs=jobs, isolate=args.isolate)
        wall = time.perf_counter() - t
        self_cpu, kids_cpu = cpu(resource.RUSAGE_SELF) - self0, cpu(resource.RUSAGE_CHILDREN) - kids0
        assert len(result["submissions"]) == args.count
        rates[jobs] = args.count / wall
        print(f"--jobs {jobs}: {args.count} submissions in {wall:.1f} s = {rates[jobs]:.1f} submissions/s; "
              f"CPU: judge {self_cpu:.1f} s, candidates' processes {kids_cpu:.1f} s "
              f"({kids_cpu / (self_cpu + kids_cpu):.0%} in the candidates' processes)")
    print(f"speed-up with 2 jobs: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
