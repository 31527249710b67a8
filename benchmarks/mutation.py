"""Mutation score of the hidden cases: how many one-line bugs of each reference do they reject?

For each problem of the bank (or those named with --problem), every single-site AST
mutant of ``reference/ID.py`` (mhajudge/mutation.py: an operator, a comparison, a
constant, an axis, a reduction, an allocation, a keyword, or a statement deleted) is
judged on the hidden cases in-process, each in a forked child with a time limit,
stopping at the first case that rejects it (the reference answers are computed once,
when the cases are built).

A mutant the cases let through is then labelled by an independent oracle: the
``ORACLE`` mapping of ``reference/oracles/ID.py`` ({entry point: a PyTorch or loop
implementation}, see reference/README.md) is run on a broad battery and the mutant's
answers compared with the oracle's within the case's tolerance. The battery is the
hidden cases drawn under other secrets, and each deterministic one (a) with its first float
array scaled by +-25 (large and very negative scores) and (b) with its
optional arguments omitted (the callee's defaults), all at once and one at a time.
Random answers (``repeat`` programs: sampling, dropout; drawn under the other
secrets, without the variants) are compared by statistics with twice as many draws:
a G-test of homogeneity for tokens, two-sample z-tests on the means (beyond the float
tolerance) and the total variance for arrays, and equal draws wherever the oracle's repeated inputs
give equal draws (determinism). A mutant that differs from the oracle somewhere is
a hole; one that agrees everywhere is reported as equivalent, with the reason to
look for. A rejected mutant needs no label: rejection means its answer left the
tolerance of the reference on a valid case, and the oracle tests show the reference
agrees with the oracle there.

    PYTHONPATH=. .venv/bin/python benchmarks/mutation.py --problem softmax [--problem sdpa] [--budget 300]

Prints, per problem: mutants, rejected, survivors (equivalent / holes), the score
(rejected / non-equivalent), and each survivor with the battery input that tells it
apart (a hole) or the note that nothing does (equivalent). Problems whose oracle
module has no ``ORACLE`` are listed as "no oracle, skipped".
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank, mutation  # noqa: E402

BATTERY_SECRETS = ("battery-1", "battery-2")
SCALES = (25.0, -25.0)
REDRAW = 2           # a repeat case's draws, times this, for the oracle's statistics
LEVEL = 1e-6         # of the oracle's statistical comparisons (a few hundred per mutant at most)
Z = 6.0


# -- the battery --------------------------------------------------------------------

def _first_float(items) -> int | None:
    import numpy as np

    for i, v in enumerate(items):
        if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.ndim >= 1:
            return i
    return None


def _scaled(inputs: dict, factor: float) -> dict | None:
    """The inputs with the first float array of the call (or of each step) times ``factor``."""
    new = dict(inputs)
    calls = [new] if "steps" not in new else None
    if calls is not None:
        i = _first_float(new.get("args", []))
        if i is None:
            return None
        new["args"] = list(new["args"])
        new["args"][i] = new["args"][i] * factor
        return new
    steps = []
    for step in new["steps"]:
        step = dict(step)
        i = _first_float(step.get("args", []))
        if i is not None:
            step["args"] = list(step["args"])
            step["args"][i] = step["args"][i] * factor
        steps.append(step)
    new["steps"] = steps
    # a judge-built cache in the first call's arguments is left as it is
    return new


def _reseed(value, j: int):
    """A vary item with every int replaced by a new one (equal items stay equal)."""
    if isinstance(value, dict):
        return {k: _reseed(v, j) for k, v in value.items()}
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    return int.from_bytes(hashlib.sha256(f"{value}:{j}".encode()).digest()[:4], "little")


def battery(problem, cases):
    """(label, case, inputs) for every battery input: other secrets, scaled, defaults omitted."""
    from mhajudge.cases import build

    items = []
    drawn = [(s, build(problem, secret=s, groups="hidden")) for s in BATTERY_SECRETS]
    for secret, built in [("judge", [c for c in cases if c.group == "hidden"])] + drawn:
        for case in built:
            if case.expect != "value":
                items.append((f"{case.name} [{secret}]", case, case.inputs))
                continue
            inputs = dict(case.inputs)
            if case.program["kind"] == "repeat":
                inputs["vary"] = [_reseed(v, j) for j in range(REDRAW) for v in case.inputs["vary"]]
            items.append((f"{case.name} [{secret}]", case, inputs))
            if secret == "judge" or case.program["kind"] == "repeat":  # draws are dear: no variants of them
                continue
            for factor in SCALES:
                scaled = _scaled(inputs, factor)
                if scaled is not None:
                    items.append((f"{case.name} [{secret}, first array x{factor:g}]", case, scaled))
            kwargs = inputs.get("kwargs") or {}
            if kwargs and case.program["kind"] != "steps":
                items.append((f"{case.name} [{secret}, defaults]", case, {**inputs, "kwargs": {}}))
                for name in kwargs if len(kwargs) > 1 else ():   # and one at a time: training=True, dropout_p left out
                    rest = {k: v for k, v in kwargs.items() if k != name}
                    items.append((f"{case.name} [{secret}, {name} left out]", case, {**inputs, "kwargs": rest}))
    return items


# -- comparing with the oracle -------------------------------------------------------

def run(fn, case, inputs):
    """Flat answer, or ("raised", code)."""
    import numpy as np

    from mhajudge.cases import run_reference
    from mhajudge.sandbox.programs import exception_code

    try:
        with np.errstate(all="ignore"):
            return run_reference(fn, case.program, inputs)
    except Exception as exc:  # noqa: BLE001
        return ("raised", exception_code(exc))


def oracle_answers(items, oracle: dict, accepted: dict):
    """The oracle's answer (and the accepted conventions') per battery input; inputs the
    oracle cannot answer (it raises on a valid case, or gives non-finite numbers) are dropped."""
    import numpy as np

    kept = []
    for label, case, inputs in items:
        if case.expect != "value":
            kept.append((label, case, inputs, ("raised", case.expect), []))
            continue
        fn = oracle.get(case.fn)
        if fn is None:
            continue
        want = run(fn, case, inputs)
        if isinstance(want, tuple) or not all(np.all(np.isfinite(v)) for v in want.values()):
            continue
        alts = [a for a in (run(alt, case, inputs) for alt in accepted.get(case.fn, [])) if isinstance(a, dict)]
        kept.append((label, case, inputs, want, alts))
    return kept


def _g_homogeneity(a, b) -> float:
    """p-value of the G-test that two samples of tokens come from one law."""
    import numpy as np

    stats = bank.reference_module("stats", "shared")
    top = int(max(a.max(initial=0), b.max(initial=0))) + 1
    ca, cb = np.bincount(a, minlength=top).astype(float), np.bincount(b, minlength=top).astype(float)
    total = ca + cb
    keep = total > 0
    ca, cb, total = ca[keep], cb[keep], total[keep]
    if ca.size < 2:
        return 1.0
    ea, eb = total * a.size / (a.size + b.size), total * b.size / (a.size + b.size)
    g = 2 * (np.sum(ca[ca > 0] * np.log(ca[ca > 0] / ea[ca > 0])) + np.sum(cb[cb > 0] * np.log(cb[cb > 0] / eb[cb > 0])))
    return stats.chi2_sf(float(g), ca.size - 1)


def _two_sample_z(a, b, atol: float, rtol: float) -> float:
    """The largest |z| of the per-element difference of means (beyond the float tolerance, so
    two constant answers a rounding apart are not "infinitely" different), and of the total variance."""
    import numpy as np

    n, m = a.shape[0], b.shape[0]
    fa, fb = a.reshape(n, -1), b.reshape(m, -1)
    se = np.sqrt(fa.var(0, ddof=1) / n + fb.var(0, ddof=1) / m)
    d = np.maximum(0.0, np.abs(fa.mean(0) - fb.mean(0)) - (atol + rtol * np.abs(fb.mean(0))))
    z_mean = float(np.max(np.where(se > 0, d / np.where(se > 0, se, 1), np.where(d > 1e-9, math.inf, 0))))
    ta = np.sum((fa - fa.mean(0)) ** 2, 1) * n / (n - 1)
    tb = np.sum((fb - fb.mean(0)) ** 2, 1) * m / (m - 1)
    se_t = math.sqrt(ta.var(ddof=1) / n + tb.var(ddof=1) / m)
    dt = max(0.0, abs(ta.mean() - tb.mean()) - fa.shape[1] * atol ** 2)
    z_var = dt / se_t if se_t > 0 else (math.inf if dt > 1e-9 else 0.0)
    return max(z_mean, z_var)


def differs(got, want, alts, case, inputs) -> str:
    """Why the mutant's answer is not the oracle's ("" when it agrees)."""
    import json

    import numpy as np

    from mhajudge.check import check_answer

    if isinstance(want, tuple):  # the contract says it raises
        return "" if isinstance(got, tuple) and got[1] == want[1] else f"does not raise {want[1]}"
    if isinstance(got, tuple):
        return f"raises {got[1]} on valid input"
    if set(got) != set(want):
        return f"answers {sorted(got)} instead of {sorted(want)}"
    if case.program["kind"] != "repeat":
        o = check_answer(got, [want] + alts, case.tolerance["atol"], case.tolerance["rtol"])
        return "" if o.ok else (o.message or "wrong answer")[:160]
    vary = [json.dumps(v, sort_keys=True, default=str) for v in inputs["vary"]]
    for name, w in want.items():
        g = np.asarray(got[name])
        if g.shape != w.shape or not np.all(np.isfinite(g)):
            return f"{name}: shape {g.shape} or non-finite draws"
        same: dict = {}
        for i, key in enumerate(vary):   # repeated inputs: where the oracle repeats itself, so must the mutant
            same.setdefault(key, []).append(i)
        for idx in same.values():
            if len(idx) > 1 and np.all(w[idx] == w[idx[0]]) and not np.all(g[idx] == g[idx[0]]):
                return f"{name}: the same inputs (seed) give different draws"
        # the law: one draw per distinct input (seed), every draw where the inputs fix nothing (seed=None)
        first = sorted(i for idx in same.values() for i in (idx[:1] if np.all(w[idx] == w[idx[0]]) else idx))
        g, w = g[first], w[first]
        if w.dtype.kind in "iu":
            p = _g_homogeneity(g.astype(np.int64).ravel(), w.astype(np.int64).ravel())
            if p < LEVEL:
                return f"{name}: the draws' law differs from the oracle's (G-test p = {p:.1e}, {g.size} draws each)"
        else:
            z = _two_sample_z(g.astype(np.float64), w.astype(np.float64), case.tolerance["atol"], case.tolerance["rtol"])
            if z > Z:
                return f"{name}: mean or spread differs from the oracle's draws (|z| = {z:.1f})"
    return ""


def label(namespace, answered) -> str:
    """The first battery input on which the mutant tells itself apart from the oracle."""
    for text, case, inputs, want, alts in answered:
        fn = namespace.get(case.fn)
        if fn is None:
            return f"{text}: no {case.fn}"
        why = differs(run(fn, case, inputs), want, alts, case, inputs)
        if why:
            return f"{text}: {why}"
    return ""


# -- the benchmark --------------------------------------------------------------------

def bench(pid: str, budget: float, kinds, limit: int | None, verbose: bool) -> dict:
    from mhajudge.cases import build

    problem = bank.load_problem(pid)
    start = time.perf_counter()
    try:
        oracle_mod = bank.reference_module(problem.reference, "oracles")
    except Exception as exc:  # noqa: BLE001 - a broken oracle module is reported, not fatal
        print(f"{pid}: the oracle module does not import ({type(exc).__name__}: {exc}), skipped")
        return {"problem": pid, "skipped": True}
    oracle = getattr(oracle_mod, "ORACLE", None) if oracle_mod else None
    if not oracle:
        print(f"{pid}: no oracle, skipped (reference/oracles/{problem.reference}.py has no ORACLE)")
        return {"problem": pid, "skipped": True}
    cases = build(problem)
    source = (bank.reference_dir() / f"{problem.reference}.py").read_text()
    todo = mutation.mutants(source, kinds)[:limit]
    mistakes = bank.reference_module(problem.reference, "mistakes")
    accepted = getattr(mistakes, "ACCEPTED", {}) if mistakes else {}
    answered = None
    rejected, equivalent, holes, unjudged = 0, [], [], 0
    setup = time.perf_counter() - start
    for m in todo:
        if time.perf_counter() - start > budget:
            unjudged += 1
            continue
        v = mutation.judge(cases, m)
        if v.rejected:
            rejected += 1
            if verbose:
                print(f"  rejected  {m.description}  <- {v.case}: {v.verdict}")
            continue
        if answered is None:  # built only when a survivor needs it
            answered = oracle_answers(battery(problem, cases), oracle, accepted)
        got = mutation.in_child(lambda: {"why": label(mutation.load(m), answered)}, timeout=120)
        why = got.get("why", "the oracle's battery timed out" if "timeout" in got else got.get("crashed", ""))
        (holes if why else equivalent).append((m, why))
    non_equivalent = rejected + len(holes)
    score = rejected / non_equivalent if non_equivalent else 1.0
    print(f"{pid}: {len(todo)} mutants, {rejected} rejected, {len(equivalent)} equivalent, {len(holes)} holes"
          f"{f', {unjudged} not judged (budget)' if unjudged else ''}; score {score:.1%} "
          f"({rejected}/{non_equivalent}); {time.perf_counter() - start:.0f} s (setup {setup:.0f} s)")
    for m, why in holes:
        print(f"  HOLE        {m.description}\n              told apart by {why}")
    for m, _ in equivalent:
        print(f"  equivalent  {m.description}")
    return {"problem": pid, "mutants": len(todo), "rejected": rejected, "holes": len(holes),
            "equivalent": len(equivalent), "score": score}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", action="append", help="a problem id (repeatable); default: the whole bank")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds per problem (default 600)")
    parser.add_argument("--kinds", default=",".join(mutation.KINDS), help="mutation kinds, comma-separated")
    parser.add_argument("--limit", type=int, default=None, help="at most this many mutants per problem")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list the rejected mutants")
    args = parser.parse_args()
    os.environ["MHAJUDGE_NO_RECORD"] = "1"
    try:  # the oracles' PyTorch on one thread: the machine is shared, and its spinning threads cost more than they give
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = set(kinds) - set(mutation.KINDS)
    if unknown:
        parser.error(f"unknown kinds {', '.join(sorted(unknown))}; known: {', '.join(mutation.KINDS)}")
    results = [bench(pid, args.budget, kinds, args.limit, args.verbose) for pid in args.problem or bank.problem_ids()]
    holes = sum(r.get("holes", 0) for r in results)
    print(f"\nholes: {holes} in {sum(not r.get('skipped') for r in results)} problems")
    return 1 if holes else 0


if __name__ == "__main__":
    sys.exit(main())
