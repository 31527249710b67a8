"""Naming the mistake: which classic error do the wrong answers match?

Each named mistake of a problem is code in ``reference/mistakes/<problem>.py``
(``MISTAKES = {id: {entry point: function or [functions]}}``; a list holds the
mistake under each accepted convention, e.g. with a ``-inf`` and a ``-1e9`` fill). On every failing case whose
answer came back, the judge runs each mistake on the same inputs and compares
the candidate's answer with the mistake's, NaN-aware, at the case's tolerance.
A mistake is reported only when it explains every failing case it was checked
on: no guesses.
"""

from __future__ import annotations

from . import bank
from .cases import run_reference
from .check import check_answer


def mistake_functions(problem) -> dict:
    module = bank.reference_module(problem.reference, "mistakes")
    return getattr(module, "MISTAKES", {}) if module else {}


def mistake_answer(fn, case):
    """The mistake's answer on a case, or None when it does not apply.

    Cached on the case, so grading many submissions computes each once.
    """
    import numpy as np

    cache = case.__dict__.setdefault("_mistake_answers", {})
    if fn not in cache:
        try:
            with np.errstate(all="ignore"):
                cache[fn] = run_reference(fn, case.program, case.inputs)
        except Exception:  # noqa: BLE001 - a mistake that crashes explains nothing here
            cache[fn] = None
    return cache[fn]


def matches(case, answer: dict, fns, drivers=None) -> bool:
    """Does ``answer`` equal what the mistake gives on this case (in any of its forms)?"""
    forms = fns if isinstance(fns, (list, tuple)) else [fns]
    return any(_matches_one(case, answer, fn, drivers) for fn in forms)


def _matches_one(case, answer: dict, fn, drivers) -> bool:
    """Custom-checked cases (random answers) match through the drivers' ``match_mistake``."""
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
    failing = [c for c in report.cases if c.verdict == "wrong-answer" and c.answer is not None]
    found = []
    for m in problem.mistakes:
        fns = code.get(m["id"], {})
        checked = [c for c in failing if c.fn in fns]
        if checked and all(matches(c.case, c.answer, fns[c.fn], drivers) for c in checked):
            found.append({"id": m["id"], "title": m["title"], "why": m["why"], "fix": m["fix"],
                          "message": f"{m['title']}. {m['why']} {m['fix']}"})
    return found
