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

from dataclasses import dataclass, field

from . import bank
from .sandbox.programs import exception_code
from .cases import run_reference
from .check import matches as answer_matches


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


def matches(case, answer: dict, fns, drivers=None, loose: bool = False) -> bool:
    """Does ``answer`` equal what the mistake gives on this case (in any of its forms)?

    ``loose``: at the float32 tolerance on a float64 case (see :func:`match_level`).
    """
    forms = fns if isinstance(fns, (list, tuple)) else [fns]
    return any(_matches_one(case, answer, fn, drivers, loose) for fn in forms)


def match_level(case, answer: dict, fns, drivers=None, f32=None) -> str | None:
    """"exact" when the answer matches the mistake at the case's tolerance, "float32" when
    only at the float32 tolerance ``f32(case)`` (a float64 case whose candidate computed
    part of it in float32), else None."""
    if matches(case, answer, fns, drivers):
        return "exact"
    loose = f32(case) if f32 is not None and _loosenable(case) else None
    if loose is not None and matches(case, answer, fns, drivers, loose=loose):
        return "float32"
    return None


def float32_tolerance(problem):
    """``tolerance(case)``: what float32 arithmetic inside float64 code can be off by on a case.

    The problem's float32 tolerance; where the mistakes module has ``PRECISION`` forms
    (the reference with one part in float32), also four times the furthest such form is
    from the reference on that case: a RoPE angle of 4000 radians is off by 2e-4 in float32.
    """
    import numpy as np

    base = problem.tolerance.get("float32")
    forms = _hook(problem, "PRECISION")
    if base is None:
        return None

    def tolerance(case):
        cache = case.__dict__.setdefault("_float32_tolerance", {})
        if "t" not in cache:
            spread = [_distance(a, case.expected[0], np) for fn in forms.get(case.fn, {}).values()
                      if case.expected and (a := mistake_answer(fn, case)) is not None]
            spread = [d for d in spread if d != float("inf")]
            cache["t"] = dict(base, atol=max(base["atol"], 4 * max(spread, default=0.0)))
        return cache["t"]
    return tolerance


def _loosenable(case) -> bool:
    return case.dtype == "float64" and case.check is None


def _matches_one(case, answer: dict, fn, drivers, loose=False) -> bool:
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
    tol = loose or case.tolerance
    return answer_matches(answer, [wrong], tol["atol"], tol["rtol"])


DISTINCT = 10  # a case is a mistake's evidence only where its answer is off by more than this many tolerances


def _near_right(case, fn, wrong: dict, tol: dict) -> bool:
    """Is the mistake's own answer within ``DISTINCT`` times ``tol`` of the right one? Then
    an answer that matches it proves nothing about that mistake: on a case without a mask
    every masking mistake gives the right answer, and where the softmax saturates (large
    scores) any scale gives nearly the same one, so an answer that fails by a hair is
    near all of them alike. Cached on the case."""
    if not case.expected or case.check is not None or wrong is None:
        return False
    cache = case.__dict__.setdefault("_mistake_near_right", {})
    key = (fn, tol["atol"], tol["rtol"])
    if key not in cache:
        try:
            cache[key] = answer_matches(wrong, case.expected, DISTINCT * tol["atol"], DISTINCT * tol["rtol"])
        except Exception:  # noqa: BLE001 - an answer of another shape passes nothing
            cache[key] = False
    return cache[key]


def _near(c, fns, tol: dict) -> bool:
    """Is the answer of case result ``c`` within ``tol`` of what a mistake's form gives?"""
    if not fns or c.case.check is not None:
        return False
    for fn in fns if isinstance(fns, (list, tuple)) else [fns]:
        wrong = mistake_answer(fn, c.case)
        if wrong is not None and answer_matches(c.answer, [wrong], tol["atol"], tol["rtol"]):
            return True
    return False


# -- compound diagnosis --------------------------------------------------------------

FLOAT32 = "float32-precision"


@dataclass
class _Finding:
    mistake: dict
    cases: list = field(default_factory=list)      # the CaseResults it explains, in case order
    loose: bool = False                             # matched only at float32 tolerance somewhere
    full: bool = True                               # explains every case it was checked on
    what: str = ""                                  # for float32-precision: what was float32


def _hook(problem, name: str) -> dict:
    module = bank.reference_module(problem.reference, "mistakes")
    return getattr(module, name, {}) if module else {}


def _explain(m, fns, twins, failing, crashed, drivers, f32) -> _Finding | None:
    """The cases one mistake explains, if it has evidence of its own.

    A case is the mistake's *own* evidence when the mistake's answer there is off by more
    than ``DISTINCT`` tolerances (a case it barely changes tells it from nothing) and none
    of its ``twins`` (the forms it is easily confused with, from the mistakes module's
    ``EVIDENCE``) matches it as well:
    a NaN on a fully masked row is what an unstable softmax gives, and also what a
    stable one without a guard gives, so it proves nothing about the max subtraction.
    """
    found = _Finding(m)
    own = False
    checked = [c for c in failing if c.fn in fns]
    for c in checked:
        how = match_level(c.case, c.answer, fns[c.fn], drivers, f32)
        if how is None:
            found.full = False
            continue
        found.cases.append(c)
        found.loose |= how == "float32"
        # Evidence of its own: the case tells the mistake from the right answer clearly
        # (a case it barely changes is explained by it, once named, but names nothing).
        tol = f32(c.case) if how == "float32" else c.case.tolerance
        forms = fns[c.fn] if isinstance(fns[c.fn], (list, tuple)) else [fns[c.fn]]
        # Only the forms the answer matches at that level speak for it: mask-added's -1e9
        # form is a hairline off where its raw-mask form is far off, on the same case.
        distinct = any(_matches_one(c.case, c.answer, fn, drivers, loose=tol if how == "float32" else False)
                       and not _near_right(c.case, fn, mistake_answer(fn, c.case), tol) for fn in forms)
        twin = twins.get(c.fn)
        if distinct and not (twin and match_level(c.case, c.answer, twin, drivers, f32)):
            own = True
    tried = [(c, e) for c, e in crashed if c.fn in fns]
    for c, e in tried:
        if reproduces_crash(c.case, e, fns[c.fn], drivers):
            found.cases.append(c)
            twin = twins.get(c.fn)
            if not checked and not (twin and reproduces_crash(c.case, e, twin, drivers)):
                own = True
        elif not checked:
            found.full = False
    # A crash alone is weak evidence (ValueError is common): a mistake explained only by
    # crashes must reproduce every one of them, and only when no answer came back wrong.
    if not checked and not found.full:
        return None
    if not found.cases or not own:
        return None
    found.cases.sort(key=lambda c: c.case.index if c.case is not None else 0)
    return found


def _float32_finding(problem, failing, f32) -> _Finding | None:
    """The failing float64 cases that are right to float32 precision, and what was float32."""
    if f32 is None:
        return None
    right = [c for c in failing if _loosenable(c.case) and c.case.expected
             and answer_matches(c.answer, c.case.expected, f32(c.case)["atol"], f32(c.case)["rtol"])]
    if not right:
        return None
    catalogue = bank.mistake_catalogue()
    found = _Finding(dict(catalogue[FLOAT32], id=FLOAT32), right, full=len(right) == len(failing))
    found.what = _what_was_float32(_hook(problem, "PRECISION"), right)
    return found


def _what_was_float32(forms: dict, cases) -> str:
    """Of the problem's ``PRECISION`` forms ({entry point: {what: function}}), the one that
    behaves like the candidate: its own error against the reference is of the candidate's
    size (within 10x), and of those it is the nearest to the candidate's answers."""
    import numpy as np

    best, best_err = "", None
    for what in sorted({w for fn in forms.values() for w in fn}):
        near, alike = 0.0, True
        for c in cases:
            fn = forms.get(c.fn, {}).get(what)
            answer = mistake_answer(fn, c.case) if fn else None
            if answer is None:
                alike = False
                break
            mine, ref = _distance(answer, c.case.expected[0], np), _distance(c.answer, c.case.expected[0], np)
            alike &= ref / 10 <= mine <= ref * 10
            near = max(near, _distance(c.answer, answer, np))
        if alike and (best_err is None or near < best_err):
            best, best_err = what, near
    return best


def _distance(got: dict, want: dict, np) -> float:
    worst = 0.0
    for name, w in want.items():
        g = got.get(name)
        if g is None or np.shape(g) != np.shape(w):
            return float("inf")
        with np.errstate(all="ignore"):
            d = np.abs(np.asarray(g, np.float64) - np.asarray(w, np.float64))
        d = d[np.isfinite(d)]
        worst = max(worst, float(d.max()) if d.size else 0.0)
    return worst


def _choose(findings: list[_Finding]) -> list[_Finding]:
    """Drop a mistake whose cases another one explains, and more besides."""
    def ids(f):
        return {id(c) for c in f.cases}
    return [f for f in findings if not any(ids(f) < ids(g) for g in findings if g is not f)]


def _describe(f: _Finding, chosen: list[_Finding], not_ok: list, mine: int) -> dict:
    m = f.mistake
    message = f"{m['title']}. {m['why']} {m['fix']}"
    if f.what:
        message = f"{m['title']}: {f.what} {'was' if f.what.endswith('sum') else 'were'} computed in float32. {m['why']} {m['fix']}"
    if f.loose:
        message += " (It matches at float32 precision only: part of your arithmetic is float32.)"
    out = {"id": m["id"], "title": m["title"], "why": m["why"], "fix": m["fix"], "message": message}
    if f.full and mine == len(not_ok):
        return out
    explained = {id(c) for c in f.cases}
    rest = [c for c in not_ok if id(c) not in explained]
    by_other = [c for c in rest if any(id(c) in {id(x) for x in g.cases} for g in chosen if g is not f)]
    crashed = [c for c in rest if c not in by_other and c.verdict != "wrong-answer"]
    unexplained = [c for c in rest if c not in by_other and c not in crashed]
    parts = []
    if by_other:
        others = sorted({g.mistake["id"] for g in chosen if g is not f
                         and any(id(c) in {id(x) for x in g.cases} for c in by_other)})
        parts.append(f"{len(by_other)} {'is' if len(by_other) == 1 else 'are'} explained by {', '.join(others)}")
    if crashed:
        parts.append(f"{len(crashed)} {'is' if len(crashed) == 1 else 'are'} "
                     f"{', '.join(sorted({c.verdict for c in crashed}))}")
    if unexplained:
        parts.append(f"{len(unexplained)} {'remains' if len(unexplained) == 1 else 'remain'} unexplained")
    out["explains"] = [c.name for c in f.cases]
    out["message"] = (f"{message} (explains {len(f.cases)} of {len(not_ok)} failing cases"
                      + (f"; {'; '.join(parts)}" if parts else "") + ")")
    return out


def _values_right(c) -> bool:
    """The answer's values are the expected ones: the case failed for something else
    (a search that asked the model too often, say), which no arithmetic mistake explains."""
    if not c.case.expected:
        return False
    plain = lambda d: {k: v for k, v in d.items() if not k.startswith("$")}  # noqa: E731
    try:
        return answer_matches(plain(c.answer), [plain(w) for w in c.case.expected],
                              c.case.tolerance["atol"], c.case.tolerance["rtol"])
    except Exception:  # noqa: BLE001 - an answer of another shape: its values are not right
        return False


def diagnose_report(problem, report) -> list[dict]:
    """The named mistakes the failing cases match; each with ``explains`` when it explains
    only some of them (the others being another mistake's, a crash's, or nobody's)."""
    code = mistake_functions(problem)
    twins = _hook(problem, "EVIDENCE")
    drivers = bank.reference_module(problem.reference, "drivers")
    f32 = float32_tolerance(problem)
    # Cases that expected an exception (say ValueError) say nothing about which
    # mistake the arithmetic has: no mistake's code can match them.
    failing = [c for c in report.cases if c.verdict == "wrong-answer" and c.answer is not None
               and c.case is not None and c.case.expect == "value" and not _values_right(c)]
    crashed = [(c, e) for c in report.cases if (e := raised_on_valid_input(c))]
    not_ok = [c for c in report.cases if c.verdict != "accepted"]
    findings = []
    for m in problem.mistakes:
        fns = code.get(m["id"], {})
        if fns:
            f = _explain(m, fns, twins.get(m["id"], {}), failing, crashed, drivers, f32)
            if f is not None:
                findings.append(f)
    precision = _float32_finding(problem, failing, f32)
    if precision is not None:
        findings.append(precision)
    chosen = _choose(findings)
    # float32 arithmetic puts small errors on every case alike; beside wrong answers that
    # nothing explains, the few it would account for are more likely hairline misses of
    # the same unexplained bug (a wrong scale on a saturated softmax) than float32.
    explained = {id(c) for f in chosen for c in f.cases}
    if precision in chosen and not precision.full and any(id(c) not in explained for c in failing):
        chosen.remove(precision)
    # Likewise a case that float32 would explain beside a named mistake whose own answer
    # is as near (a scale that barely matters where the softmax saturates): that mistake
    # accounts for it as well, and float32 is named only on cases it alone explains.
    if precision in chosen and not precision.full:
        others = [code.get(f.mistake["id"], {}) for f in chosen if f is not precision]
        precision.cases = [c for c in precision.cases
                           if not any(_near(c, fns.get(c.fn), f32(c.case)) for fns in others)]
        if not precision.cases:
            chosen.remove(precision)
    return [_describe(f, chosen, not_ok, len(f.cases)) for f in chosen]
