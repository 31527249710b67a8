"""Cases: a problem's sample and hidden cases, with their expected answers.

Hidden cases are drawn at run time from a seed derived from the problem id, the
case group's name and the case's index, mixed with ``MHAJUDGE_SECRET`` when it is
set, so nobody can precompute the answers a grader's CI expects.

A generator is the built-in ``tensors`` (see :mod:`mhajudge.generators`) or a
function in ``reference/drivers/<problem>.py``'s ``GENERATORS``. It returns the
call's arguments, or a *draft* dict that takes full control of a case:

- ``args``: ``{param: value}`` for the call (always);
- ``program``: ``call`` (default), ``repeat`` with ``vary``, or ``steps`` with
  ``steps`` (see :mod:`mhajudge.sandbox.programs`);
- ``memory``: measure the peak allocation of the call (a custom check reads
  it from the answer's ``$peak_bytes`` leaf, see :mod:`mhajudge.sandbox`);
- ``expected``: the answer, or a list of accepted answers (default: the
  reference run through the same program);
- ``check``: the name of a function in the drivers module's ``CHECKS`` used
  instead of the tolerance comparison;
- ``meta``: anything that check needs;
- ``times``: for ``steps``, have the trusted child hand the steps over one at a
  time and time each (wall clock, from outside the case's process) into the
  answer's ``$step_times`` leaf.

An argument ``{"$model": {...}}`` is a function of the judge's built from arrays
(:mod:`mhajudge.sandbox.models`), here for the reference, in the trusted child for
the candidate (:mod:`mhajudge.sandbox.serving`); the candidate's answer then has
the leaves ``$model_calls`` and ``$model_rows``, the child's counts.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field

from . import bank
from .sandbox import answers
from .errors import SpecError
from .spec import CaseGroup, Problem, _display

SECRET_VAR = "MHAJUDGE_SECRET"


@dataclass
class Case:
    index: int
    name: str
    group: str                 # "sample" or "hidden"
    fn: str
    args: dict                 # {param: value}, as the reference receives them
    program: dict              # sent to the child: kind, fn, returns, memory
    inputs: dict               # sent to the child: args, kwargs, vary/steps
    dtype: str
    expect: str                # "value" or an exception name
    tolerance: dict
    time_limit: float
    weight: float
    expected: list | None = None   # accepted flat answers, the first is primary
    check: object = None           # custom check(case, answer) -> Outcome
    meta: dict = field(default_factory=dict)
    seed: int | None = None
    ref_time_s: float | None = None  # the reference's time on this case, in the judge


def case_seed(problem_id: str, group_name: str, index: int, secret: str | None = None) -> int:
    """The seed of one hidden case: stable, and secret when the grader wants it."""
    if secret is None:
        secret = os.environ.get(SECRET_VAR, "")
    text = f"{problem_id}\x00{group_name}\x00{index}\x00{secret}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def _literal(value, dtype: str):
    import numpy as np

    if isinstance(value, dict) and "array" in value:
        return np.asarray(value["array"], dtype=value.get("dtype", dtype))
    if isinstance(value, list):
        return np.asarray(value, dtype=dtype)
    return value


def split_call(problem: Problem, fn: str, args: dict) -> dict:
    """Required parameters go positionally, optional ones by keyword."""
    ep = problem.entry(fn)
    positional = [args[p] for p in ep.required]
    keywords = {k: args[k] for k in ep.optional if k in args}
    return {"args": positional, "kwargs": keywords}


def materialize(value):
    """The inputs as trusted code in the judge receives them: generators made, arrays copied."""
    from .sandbox.programs import with_generators

    return with_generators(value, copy_arrays=True)


def run_reference(fn, program: dict, inputs: dict, poison: bool = True) -> dict:
    """Run trusted code (the reference or a mistake) the way the child runs the candidate.

    ``poison=False`` skips leaving NaN in free memory first: for the reference and its
    accepted alternatives, which never read memory they did not write
    (``tests/test_reference_memory.py`` checks their answers do not depend on it), it only cost
    ~1.4 ms a case of every cold run. Mistakes and mutants keep it, as the candidate does.
    """
    from .sandbox.programs import call_program, poison_free_memory, shape_answer

    kind = program.get("kind", "call")
    if poison and kind != "repeat":  # as the child does before the candidate's call
        poison_free_memory()
    results = call_program(fn, kind, materialize(inputs), answers.AnswerError)
    return shape_answer(results, kind, program["returns"], answers)


def build(problem: Problem, secret: str | None = None, groups: str = "all") -> list[Case]:
    """All cases of a problem, in order: samples first, then hidden."""
    import numpy as np

    reference = bank.reference_module(problem.reference)
    drivers = bank.reference_module(problem.reference, "drivers")
    mistakes = bank.reference_module(problem.reference, "mistakes")
    accepted = getattr(mistakes, "ACCEPTED", {}) if mistakes else {}
    chosen = {"all": problem.groups, "sample": problem.samples, "hidden": problem.hidden}[groups]
    cases: list[Case] = []
    for g in chosen:
        for i in range(g.count):
            seed = case_seed(problem.id, g.name, i, secret) if g.group == "hidden" else None
            name = g.name if g.count == 1 else f"{g.name} #{i + 1}"
            draft = _draft(problem, g, i, seed, drivers)
            cases.append(_case(problem, g, len(cases), name, seed, draft, reference, drivers, accepted, np))
    return cases


def _draft(problem: Problem, g: CaseGroup, i: int, seed, drivers) -> dict:
    import numpy as np

    if g.args is not None:
        return {"args": {k: _literal(v, g.dtype) for k, v in g.args.items()}}
    rng = np.random.default_rng(seed)
    where = f"{_display(problem.path)}: {g.where}.params"
    if g.generator == "tensors":
        from .generators import tensors

        return {"args": tensors(rng, g.params, g.dtype, i, where)}
    gens = getattr(drivers, "GENERATORS", {}) if drivers else {}
    if g.generator not in gens:
        raise SpecError(f"{_display(problem.path)}: {g.where}.generator: "
                        f"unknown generator {g.generator!r}; use `tensors` or one of "
                        f"reference/drivers/{problem.reference}.py's GENERATORS ({', '.join(gens) or 'none'})")
    draft = gens[g.generator](rng, dict(g.params), g.dtype, i)
    if not isinstance(draft, dict):
        raise SpecError(f"reference/drivers/{problem.reference}.py: GENERATORS[{g.generator!r}] returned a "
                        f"{type(draft).__name__}, not the call's arguments or a draft (a dict)")
    if "args" not in draft:
        return {"args": draft}
    from .author import check_draft

    check_draft(draft, f"reference/drivers/{problem.reference}.py: GENERATORS[{g.generator!r}] ({g.where})")
    return draft


def _case(problem, g, index, name, seed, draft, reference, drivers, accepted, np) -> Case:
    ep = problem.entry(g.call)
    args = {k: v for k, v in draft["args"].items() if k not in g.omit}   # omitted: the callee's default
    kind = draft.get("program", "call")
    inputs = split_call(problem, g.call, args)
    for extra in ("vary", "steps"):
        if extra in draft:
            inputs[extra] = draft[extra]
    program = {"kind": kind, "fn": g.call, "returns": ep.returns, "memory": bool(draft.get("memory"))}
    from .sandbox.models import has_marker

    served = program["models"] = has_marker(inputs)  # the judge's models: the child answers them
    if served:  # the child counts every call of the model: the candidate is called once, not timed by repeats
        program["timing"] = {"most": 1}
    if draft.get("times"):
        if kind != "steps" or served:
            raise SpecError(f"reference/drivers/{problem.reference}.py: {g.generator!r} ({g.where}): 'times' is for "
                            "a steps program without the judge's models")
        program["times"] = True  # the child hands the steps over one at a time and times each (sandbox/serving.py)
    tolerance = g.tolerance or problem.tolerance.get(g.dtype, problem.tolerance["float64"])
    case = Case(index=index, name=name, group=g.group, fn=g.call, args=args, program=program,
                inputs=inputs, dtype=g.dtype, expect=g.expect, tolerance=tolerance,
                time_limit=g.time_limit or problem.time_limit, weight=g.weight,
                meta=draft.get("meta", {}), seed=seed)
    if "check" in draft:
        checks = getattr(drivers, "CHECKS", {}) if drivers else {}
        if draft["check"] not in checks:
            raise SpecError(f"reference/drivers/{problem.reference}.py: no check named {draft['check']!r} in CHECKS")
        case.check = checks[draft["check"]]
    if g.expect != "value":
        return case
    if "expected" in draft:
        exp = draft["expected"]
        case.expected = exp if isinstance(exp, list) else [exp]
        return case
    try:
        start = time.perf_counter()
        case.expected = [run_reference(getattr(reference, g.call), program, inputs, poison=False)]
        case.ref_time_s = None if served else time.perf_counter() - start  # served: called once, no ratio
        if kind == "call" and not served:  # the call alone, as the child times the candidate's: a median of repeats
            from .sandbox.programs import REPEAT_BUDGET_S, median_time

            fn, call = getattr(reference, g.call), materialize(inputs)
            slow = case.ref_time_s > REPEAT_BUDGET_S  # the run above already is a fair timing: do not repeat it
            case.ref_time_s = median_time(lambda: fn(*call["args"], **call["kwargs"]),
                                          first=case.ref_time_s if slow else None)
        for alt in accepted.get(g.call, []):
            case.expected.append(run_reference(alt, program, inputs, poison=False))
    except Exception as exc:
        raise SpecError(f"reference/{problem.reference}.py: {g.call} failed on case {name!r}: "
                        f"{type(exc).__name__}: {exc}") from None
    return case
