"""Power of the random problems' statistics: is a slightly wrong sampler caught?

The counterpart of false_rejections.py (a correct solution is never rejected): here
a solution that is wrong by a little must be rejected. Two slightly wrong solutions:

- sampling: a sampler drawing from the right law raised to the power 1.05 and
  renormalised (what a temperature off by 5% does);
- attention-block: a block that drops with probability ``1.05 * dropout_p`` and
  rescales by its own ``1 / (1 - 1.05 p)`` (its mean is right; only its spread is off).

For each secret the hidden cases are drawn, and the wrong solution's answers go
through the cases' own checks (``case.check``) exactly as a candidate's would: a run
"passes" when every hidden case accepts it. Sampling's draws are simulated with
NumPy from the distorted law (the same law a distorted candidate draws from, without
the child's per-call overhead); the block is the reference called at the distorted
rate with each case's generators. Sampling also gets the analytic miss probability of
each case: the noncentral chi-square law of G (``stats.power_miss``), and of a run
(the product over its cases).

    PYTHONPATH=. .venv/bin/python benchmarks/power.py [--secrets 200] [--power 1.05] [sampling] [attention-block]
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
from mhajudge.cases import build  # noqa: E402


def sampling_run(problem, secret, power, stats, driver, rng):
    """(the names of the cases the distorted sampler passes, how many cases, the run's analytic miss probability)."""
    import numpy as np

    miss_run, passed, total = 1.0, [], 0
    for case in build(problem, secret=secret, groups="hidden"):
        if case.check is not driver.CHECKS["distribution"]:
            continue
        total += 1
        p = driver.case_law(case).probs
        q = p ** power
        q /= q.sum()
        n = len(case.meta["seeds"])
        if np.count_nonzero(p) > 1:
            miss_run *= stats.power_miss(q, p, n)
        tokens = rng.choice(p.size, size=n, p=q)
        if case.check(case, {"token": tokens}).ok:
            passed.append(case.name)
    return passed, total, miss_run


def block_run(problem, secret, factor, ref):
    """The names of the hidden training cases a block dropping at ``factor * p`` passes (and how many there are)."""
    import numpy as np

    passed, total = [], 0
    for case in build(problem, secret=secret, groups="hidden"):
        a = case.args
        if case.check is None or not (a.get("training") and a.get("dropout_p", 0) > 0):
            continue
        total += 1
        ys = np.stack([ref.attention_block(a["x"], a["params"], a["num_heads"], factor * a["dropout_p"], True,
                                           np.random.default_rng(s)) for s in case.meta["seeds"]])
        if case.check(case, {"output": ys}).ok:
            passed.append(case.name)
    return passed, total


def main() -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problems", nargs="*", default=["sampling", "attention-block"])
    parser.add_argument("--secrets", type=int, default=200)
    parser.add_argument("--power", type=float, default=1.05, help="the distortion (default 1.05)")
    args = parser.parse_args()
    os.environ["MHAJUDGE_NO_RECORD"] = "1"
    stats = bank.reference_module("stats", "shared")
    secrets = [f"power-{i}" for i in range(args.secrets)]
    for pid in args.problems:
        problem = bank.load_problem(pid)
        start = time.perf_counter()
        if pid == "sampling":
            driver = bank.reference_module("sampling", "drivers")
            rng = np.random.default_rng(0)
            accepted, worst_miss, by_case = 0, 0.0, {}
            for s in secrets:
                passed, total, miss = sampling_run(problem, s, args.power, stats, driver, rng)
                accepted += len(passed) == total
                worst_miss = max(worst_miss, miss)
                for name in passed:
                    by_case[name] = by_case.get(name, 0) + 1
            print(f"sampling, law ** {args.power:g}: accepted in {accepted} of {len(secrets)} runs (simulated); "
                  f"the run's analytic miss probability is at most {worst_miss:.1e} over these secrets; "
                  f"{time.perf_counter() - start:.0f} s")
            for name, k in sorted(by_case.items(), key=lambda kv: -kv[1]):
                print(f"    passed {k:>4} of {len(secrets)} times: {name}")
        elif pid == "attention-block":
            ref = bank.reference_module("attention_block")
            accepted, by_case = 0, {}
            for s in secrets:
                passed, total = block_run(problem, s, args.power, ref)
                accepted += len(passed) == total
                for name in passed:
                    by_case[name] = by_case.get(name, 0) + 1
            print(f"attention-block, drop rate x {args.power:g}: accepted in {accepted} of {len(secrets)} runs "
                  f"(simulated); {time.perf_counter() - start:.0f} s")
            for name, k in sorted(by_case.items(), key=lambda kv: -kv[1]):
                print(f"    passed {k:>4} of {len(secrets)} times: {name}")
        else:
            print(f"{pid}: no distorted solution defined here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
