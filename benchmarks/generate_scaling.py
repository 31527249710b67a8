"""generate's timed case: how far apart are a cached loop and a recomputing one?

Judges the reference (a cached loop), a correct cached loop written another way and
the recomputing loop (``reference/solutions/generate/``) on the timed hidden case
only, ``--runs`` times each, under different ``MHAJUDGE_SECRET`` values (new models),
and prints per run the fitted exponents (candidate and reference, measured side by
side), the time ratio at the longest length, and the verdict. The check fails a run
when the exponent exceeds the reference's by more than ``EXCESS`` and the ratio is
above ``RATIO`` (reference/drivers/generate.py): the figures show the margin on
either side.

    .venv/bin/python benchmarks/generate_scaling.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank  # noqa: E402
from mhajudge.author import TIMES_LEAF  # noqa: E402
from mhajudge.judge import judge_file  # noqa: E402

FILES = ["reference/generate.py", "reference/solutions/generate/correct_preallocated.py",
         "reference/solutions/generate/recompute_prefix.py"]
CASE = "time against the length"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    os.environ["MHAJUDGE_NO_RECORD"] = "1"
    drivers = bank.reference_module("generate", "drivers")
    print(f"EXCESS {drivers.EXCESS}, RATIO {drivers.RATIO}, ROUNDS {drivers.ROUNDS}")
    print(f"{'file':<52}{'run':>4}{'verdict':>14}  exponents (yours vs the reference, re-timed here), ratio at the longest")
    for f in FILES:
        start = time.perf_counter()
        bad = 0
        for i in range(args.runs):
            report = judge_file(ROOT / f, "generate", secret=f"scaling-{i}", only=CASE, diagnose=False)
            case = next(c for c in report.cases if c.name.startswith(CASE))
            bad += case.verdict != "accepted"
            times = case.answer[TIMES_LEAF]
            mine, ref, ratio, reference = drivers.figures(case.case, times)
            least = drivers.least(times, case.case)  # per length, the least over the rounds
            shown = " ".join(f"{t * 1e3:.0f}/{r * 1e3:.0f}" for t, r in zip(least, reference))
            print(f"{f:<52}{i:>4}{case.verdict:>14}  T^{mine:.2f} vs T^{ref:.2f}, {ratio:5.1f}x  "
                  f"ms yours/ref: {shown}")
        print(f"  {f}: {bad} of {args.runs} rejected, {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
