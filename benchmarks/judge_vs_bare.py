"""How much does judging cost beyond running the code?

For each problem: the median wall time of `mhajudge run` on the reference solution,
beside a bare Python script that imports the same solution and calls it on the same
cases with no judge, and their ratio; then the median time of `mhajudge list`.

    .venv/bin/python benchmarks/judge_vs_bare.py [--repeats 7] [PROBLEM ...]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402

CORE = ["softmax", "sdpa", "mha-qkv", "mha-batched", "mha-projected", "mha-masked"]

BARE = r"""
import importlib.util, pickle, sys
import numpy as np
from mhajudge.sandbox.programs import call_program
spec = importlib.util.spec_from_file_location("solution", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
for fn, kind, inputs, expect in pickle.load(open(sys.argv[2], "rb")):
    try:
        call_program(getattr(mod, fn), kind, inputs)
    except Exception as exc:
        if type(exc).__name__ != expect:
            raise
"""


def median_time(cmd, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problems", nargs="*", default=[p for p in CORE if p in bank.problem_ids()])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--isolate", action="store_true", help="judge inside bubblewrap (run --isolate)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    bare = tmp / "bare.py"
    bare.write_text(BARE)
    print(f"{'problem':<18}{'cases':>6}{'judge s':>10}{'bare s':>10}{'ratio':>8}")
    for pid in args.problems:
        problem = bank.load_problem(pid)
        ref = bank.reference_dir() / f"{problem.reference}.py"
        cases = build(problem)
        data = tmp / f"{pid}.pkl"
        with open(data, "wb") as f:
            pickle.dump([(c.fn, c.program["kind"], c.inputs, c.expect) for c in cases], f)
        cmd = [sys.executable, "-m", "mhajudge", "run", str(ref), "--problem", pid, "--format", "json",
               "--no-record"] + (["--isolate"] if args.isolate else [])
        judge = median_time(cmd, args.repeats)
        plain = median_time([sys.executable, str(bare), str(ref), str(data)], args.repeats)
        print(f"{pid:<18}{len(cases):>6}{judge:>10.3f}{plain:>10.3f}{judge / plain:>8.2f}")
    listing = median_time([sys.executable, "-m", "mhajudge", "list"], args.repeats)
    print(f"\nmhajudge list: median {listing:.3f} s over {args.repeats} runs")



if __name__ == "__main__":
    main()
