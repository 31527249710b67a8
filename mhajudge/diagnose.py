"""Naming the mistake: which classic error do the wrong answers match?

Each named mistake of a problem is code in ``reference/mistakes/<problem>.py``
(``MISTAKES = {id: {entry point: function or [functions]}}``; a list holds the
mistake under each accepted convention, e.g. with a ``-inf`` and a ``-1e9`` fill). On every failing case whose
answer came back, the judge runs each mistake on the same inputs and compares
the candidate's answer with the mistake's, NaN-aware, at the case's tolerance.
A mistake is reported only when it explains every failing case it was checked
on: no guesses.

Random answers (cases with a custom check) match through the problem's drivers:
``match_mistake(case, answer, mistake_answer)`` gets the mistake's own answer on
the same program; or, when the drivers define ``match_mistake_exact(case, answer,
mistake)``, it gets the mistake function itself, judges the answer against the
mistake's exact distribution, and the mistake is not run at all.

When the candidate's answers on some cases were wrong, a mistake must explain
all of them (crashes are left out, as before). When the candidate only crashed
(raised on valid input), a mistake is reported if it raises the same exception
on every one of those cases: a softmax that overflows to NaN makes ``rng.choice`` raise
``ValueError`` in the candidate's code and in the mistake's. Drivers with
``match_mistake_exact`` may say which exception a mistake raises without running
it: ``mistake_exception(case, mistake) -> name or None``.
"""

from __future__ import annotations


from . import bank
from .sandbox.programs import exception_code
from .cases import run_reference
from .check import check_answer


def mistake_functions(problem) -> dict:
    module = bank.reference_module(problem.reference, "mistakes")
    return getattr(module, "MISTAKES", {}) if module else {}


def mistake_answer(fn, case):
    """The mistake's answer on a case, or None when it does not apply.

    Cached on the case, so grading many submissions computes each once.
    """
    answer = run_mistake(fn, case)
    return None if isinstance(answer, Raised) else answer


class Raised(str):
    """The name of the exception a mistake raised on a case."""


def run_mistake(fn, case):
    import numpy as np

    cache = case.__dict__.setdefault("_mistake_answers", {})
    if fn not in cache:
        try:
            with np.errstate(all="ignore"):
                cache[fn] = run_reference(fn, case.program, case.inputs)
        except Exception as exc:  # noqa: BLE001 - a mistake that crashes explains no wrong answer
            cache[fn] = Raised(exception_code(exc))  # named as the child names a candidate's
    return cache[fn]


def raised_on_valid_input(result) -> str | None:
    """The exception a runtime-error case raised, when valid input made the candidate raise."""
    if result.verdict != "runtime-error" or result.case is None or result.case.expect != "value":
        return None
    return result.exception  # a builtin class, checked in the child and by the judge; never the message


def reproduces_crash(case, exception: str, fns, drivers=None) -> bool:
    """Does the mistake (in any of its forms) raise ``exception`` on this case?"""
    forms = fns if isinstance(fns, (list, tuple)) else [fns]
    told = getattr(drivers, "mistake_exception", None) if case.check is not None else None
    for fn in forms:
        raised = told(case, fn) if told else run_mistake(fn, case)
        if isinstance(raised, str) and raised == exception:
            return True
    return False


def matches(case, answer: dict, fns, drivers=None) -> bool:
    """Does ``answer`` equal what the mistake gives on this case (in any of its forms)?"""
    forms = fns if isinstance(fns, (list, tuple)) else [fns]
    return any(_matches_one(case, answer, fn, drivers) for fn in forms)


def _matches_one(case, answer: dict, fn, drivers) -> bool:
    """Custom-checked cases (random answers) match through the drivers (see the module docstring)."""
    exact = getattr(drivers, "match_mistake_exact", None) if case.check is not None else None
    if exact is not None:
        return bool(exact(case, answer, fn))
    wrong = mistake_answer(fn, case)
    if wrong is None:
        return False
    if case.check is not None:
        match = getattr(drivers, "match_mistake", None)
        return bool(match and match(case, answer, wrong))
    return check_answer(answer, [wrong], case.tolerance["atol"], case.tolerance["rtol"]).ok


def diagnose_report(problem, report) -> list[dict]:
    code = mistake_functions(problem)
    drivers = bank.reference_module(problem.reference, "drivers")
    # Cases that expected an exception (say ValueError) say nothing about which
    # mistake the arithmetic has: no mistake's code can match them.
    failing = [c for c in report.cases if c.verdict == "wrong-answer" and c.answer is not None
               and c.case.expect == "value"]
    crashed = [(c, e) for c in report.cases if (e := raised_on_valid_input(c))]
    found = []
    for m in problem.mistakes:
        fns = code.get(m["id"], {})
        checked = [c for c in failing if c.fn in fns]
        if checked:
            explained = all(matches(c.case, c.answer, fns[c.fn], drivers) for c in checked)
        else:
            tried = [(c, e) for c, e in crashed if c.fn in fns]
            explained = bool(tried) and all(reproduces_crash(c.case, e, fns[c.fn], drivers) for c, e in tried)
        if explained:
            found.append({"id": m["id"], "title": m["title"], "why": m["why"], "fix": m["fix"],
                          "message": f"{m['title']}. {m['why']} {m['fix']}"})
    return found
