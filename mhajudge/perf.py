"""`run --perf`: how the candidate's time grows with the sequence length.

The spec's ``perf`` section names a dimension (``L``), growing sizes and the
tensors to draw (as the ``tensors`` generator). Each size runs once in the
sandbox, timed in the child as the median of repeats; the reference is timed
the same way in the judge. A least-squares line through log(time) against
log(L) gives the exponent: attention is ``L^2``; ``L^3`` means a loop too many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import JudgeError

TIME_BUDGET = 0.3   # seconds of repeats per size, for a steady median
MOST = 7


@dataclass
class PerfReport:
    dim: str
    sizes: list[int]
    times: list[float | None] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)
    exponent: float | None = None
    reference_exponent: float | None = None
    expected: float = 2.0
    message: str = ""

    def to_json(self) -> dict:
        return {"dim": self.dim, "sizes": self.sizes, "time_s": self.times, "reference_time_s": self.reference,
                "exponent": self.exponent, "reference_exponent": self.reference_exponent,
                "expected_exponent": self.expected, "message": self.message}


def fit_exponent(sizes: list[int], times: list[float]) -> float:
    """The slope of log(time) against log(size), by least squares."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-9)) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def require_perf(problem) -> dict:
    """The problem's perf section, or a clear error naming the problems that have one."""
    from . import bank

    if not problem.perf:
        with_perf = [p.id for p in bank.load_all() if p.perf]
        raise JudgeError(f"problem {problem.id!r} has no perf section, so --perf cannot grow its inputs",
                         hint=f"--perf works for: {', '.join(with_perf)}")
    return problem.perf


def measure(file, problem, limits=None, isolate: bool = False) -> PerfReport:
    """Time the candidate (in the sandbox) and the reference on growing sizes."""
    import numpy as np

    from . import bank
    from .cases import split_call
    from .sandbox.programs import median_time
    from .generators import tensors
    from .sandbox.runner import Limits, Sandbox

    spec = require_perf(problem)
    ep = problem.entry(spec["call"])
    reference = getattr(bank.reference_module(problem.reference), spec["call"])
    report = PerfReport(spec["dim"], list(spec["sizes"]), expected=spec["exponent"])
    program = {"kind": "call", "fn": ep.name, "returns": ep.returns, "memory": False,
               "timing": {"budget": TIME_BUDGET, "most": MOST}}
    where = f"problems/{problem.id}.yaml: perf.params"
    limits = limits or Limits()
    entry_points = [{"name": e.name, "params": e.params} for e in problem.entry_points]
    from .track import read_track_source, sandbox_options

    with Sandbox(file, entry_points, limits=limits, isolate=isolate,
                 **sandbox_options(problem, read_track_source(file))) as box:
        loaded = box.wait_loaded()
        if not loaded.ok or ep.name in loaded.missing:
            raise JudgeError(f"cannot time {file}: {loaded.message or loaded.missing.get(ep.name)}")
        for i, size in enumerate(report.sizes):
            params = dict(spec["params"])
            params["dims"] = {**params.get("dims", {}), spec["dim"]: size}
            args = tensors(np.random.default_rng(i), params, "float64", 0, where)
            inputs = split_call(problem, ep.name, args)
            run = box.run(1000 + i, program, inputs, problem.time_limit)
            report.times.append(run.time_s if run.status == "ok" else None)
            report.reference.append(median_time(lambda: reference(*inputs["args"], **inputs["kwargs"]),
                                                TIME_BUDGET, MOST))
            if run.status != "ok":
                report.message = f"stopped at {spec['dim']} = {size}: {run.status} {run.message}".strip()
                break
    done = [(s, t) for s, t in zip(report.sizes, report.times) if t is not None]
    if len(done) >= 3:
        report.exponent = round(fit_exponent([s for s, _ in done], [t for _, t in done]), 2)
    report.reference_exponent = round(fit_exponent(report.sizes[:len(report.reference)], report.reference), 2) \
        if len(report.reference) >= 3 else None
    if report.exponent is not None and not report.message:
        # Against the reference measured the same way, at the same time: small sizes and
        # a busy machine bend both curves alike.
        baseline = max(report.expected, report.reference_exponent or 0.0)
        if report.exponent > baseline + 0.6:
            report.message = (f"your time grows like {report.dim}^{report.exponent:.1f}, faster than the "
                              f"expected {report.dim}^{report.expected:.0f}: is there a Python loop over "
                              "positions or heads doing work a matmul should do?")
        elif abs(report.exponent - report.expected) <= 0.6:
            report.message = (f"time ~ {report.dim}^{report.exponent:.1f}, as expected for this problem "
                              f"({report.dim}^{report.expected:g})")
        else:  # off the expected law, but so is the reference, measured alongside: the machine, not the code
            ref = report.reference_exponent
            report.message = (f"time ~ {report.dim}^{report.exponent:.1f}; this problem's expected law is "
                              f"{report.dim}^{report.expected:g}" + ("" if ref is None else
                              f", and the reference measured {report.dim}^{ref:.1f} alongside: at these "
                              "sizes, on this machine, fixed costs bend both curves alike"))
        if report.message.startswith("time ~"):
            last = len(done) - 1
            ratio = done[last][1] / report.reference[last] if report.reference[last] > 0 else 0
            if ratio > 20:
                report.message += (f", but {ratio:.0f}x the reference's time at {report.dim} = {done[last][0]}: "
                                   "a Python loop where a batched matmul would do?")
    return report


def render(report: PerfReport, console) -> None:
    from rich.table import Table

    table = Table(title=f"time against {report.dim}", title_justify="left")
    table.add_column(report.dim, justify="right")
    table.add_column("yours", justify="right")
    table.add_column("reference", justify="right")
    table.add_column("ratio", justify="right")
    for size, mine, ref in zip(report.sizes, report.times + [None] * len(report.sizes), report.reference):
        table.add_row(str(size), "-" if mine is None else f"{mine * 1e3:.2f} ms", f"{ref * 1e3:.2f} ms",
                      "-" if mine is None else f"{mine / ref:.1f}x")
    console.print(table)
    exp = "-" if report.exponent is None else f"{report.exponent:.2f}"
    ref = "-" if report.reference_exponent is None else f"{report.reference_exponent:.2f}"
    console.print(f"fitted exponent: yours {exp}, reference {ref}. {report.message}")
