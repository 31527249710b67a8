"""Judging one file: spec -> cases -> run candidate -> check -> diagnose -> report.

This is the library API the CLI, the tests and graders' scripts call::

    from mhajudge.judge import judge_file
    report = judge_file("solution.py", "sdpa")
    print(report.verdict, report.passed, report.total)
"""

from __future__ import annotations

import ast
import contextlib
import copy
import os
import re
import time
from pathlib import Path

from . import bank
from .errors import JudgeError
from .results import CaseResult, Report
from .untrusted import PARSE_ERRORS
from .sandbox.replies import RunResult
from .sandbox.programs import REPEAT_BUDGET_S
from .sandbox.runner import Limits, Sandbox
from .track import banned_calls, banned_modules, track_of

GIVE_UP = 3  # consecutive time-limits after which a submission's other cases are not run
HEADER_RE = re.compile(r"^\s*#\s*mhajudge:\s*([a-z0-9-]+)(\s+(numpy|torch))?\s*$")  # the track may follow


def read_header(text: str) -> str | None:
    """The ``# mhajudge: ID`` header, if one of the first lines has it."""
    for line in text.splitlines()[:30]:
        m = HEADER_RE.match(line)
        if m:
            return m.group(1)
    return None


def _defined_classes(text: str) -> list[str]:
    try:
        return [n.name for n in ast.parse(text).body if isinstance(n, ast.ClassDef)]
    except PARSE_ERRORS:
        return []


def _defined_functions(text: str) -> dict[str, list[str]] | None:
    try:
        tree = ast.parse(text)
    except PARSE_ERRORS:
        return None
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = [a.arg for a in node.args.posonlyargs + node.args.args]
    return out


_DEF = re.compile(r"^def[ \t]+([A-Za-z_]\w*)[ \t]*\(([^)]*)\)", re.M)


def _def_lines(text: str) -> dict[str, list[str]]:
    """The top-level functions and their positional parameters, read off the ``def`` lines
    alone (for a file with a syntax error elsewhere)."""
    out = {}
    for name, params in _DEF.findall(text):
        names = [re.match(r"\s*\**\s*(\w*)", p).group(1) for p in params.split(",")]
        out[name] = [n for n, p in zip(names, params.split(",")) if n and not p.strip().startswith("*")]
    return out


def _syntax_error(text: str) -> str:
    """Where Python stops reading ``text``: 'SyntaxError at line 3: expected ':'', or why not."""
    try:
        compile(text, "<file>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{type(exc).__name__} at line {exc.lineno}: {exc.msg}"
    except (RecursionError, MemoryError, ValueError):
        pass
    return "nested too deeply for Python"


def select_cases(cases: list, only: str | None) -> list:
    """The cases whose name contains ``only`` (any case); all of them without it."""
    if not only:
        return cases
    chosen = [c for c in cases if only.lower() in c.name.lower()]
    if not chosen:
        import difflib

        plain = sorted({c.name.split(" #")[0] for c in cases})
        names = "; ".join(f"'{n}'" for n in plain)  # names hold commas
        near = difflib.get_close_matches(only.lower(), [n.lower() for n in plain], n=1, cutoff=0.6)
        near = next((f"did you mean '{n}'? " for n in plain if near and n.lower() == near[0]), "")
        raise JudgeError(f"--case {only!r} matches no case", hint=f"{near}the cases are: {names}")
    return chosen


def resolve_problem(file: Path, problem_id: str | None = None):
    """The problem a file is for: --problem, else its header, else its function names."""
    if problem_id:
        return bank.load_problem(problem_id)
    from .notebook import code_of, is_notebook
    from .source import SourceError, read_source

    try:
        text = code_of(file)[0] if is_notebook(file) else read_source(file)
    except SourceError as exc:
        raise JudgeError(f"{file}: {exc}") from None
    header = read_header(text)
    if header:
        return bank.load_problem(header)
    defined = _defined_functions(text)
    loosely = defined is None
    if loosely:  # a syntax error: its `def` lines may still name the problem, and the sandbox then says where
        defined = _def_lines(text)
    problems = bank.load_all()
    full = [p for p in problems if all(ep.name in defined for ep in p.entry_points)]
    exact = [p for p in full
             if all(defined[ep.name] == [x.split("=")[0] for x in ep.params] for ep in p.entry_points)]
    exact, full = _most_specific(exact), _most_specific(full)
    for pool in (exact, full):
        if len(pool) == 1:
            return pool[0]
    if loosely:
        raise JudgeError(f"{file} cannot be parsed ({_syntax_error(text)}), so its problem cannot be told "
                         "from its functions",
                         hint="fix that line; or name the problem, `mhajudge run FILE --problem ID` (a "
                              "`# mhajudge: ID` first line does too), to have it judged as a load-error")
    pool = exact or full
    if pool:
        listing = "; ".join(f"{p.id}: {', '.join(ep.signature for ep in p.entry_points)}" for p in pool)
        raise JudgeError(f"{file} could be any of {len(pool)} problems ({listing})",
                         hint=f"name it: `mhajudge run {file} --problem {pool[0].id}`, "
                              f"or add `# mhajudge: {pool[0].id}` as the file's first line")
    classes = _defined_classes(text)
    if classes and not defined:  # a class-based answer: the judge calls functions
        raise JudgeError(f"{file} defines no problem's entry points, only the class(es) {', '.join(classes)}: "
                         "the judge calls top-level functions",
                         hint="add the problem's function (`mhajudge show ID` gives its signature), e.g. one that "
                              "builds your class and calls it, and name the problem with --problem ID")
    raise JudgeError(f"{file} defines no problem's entry points (found: {', '.join(defined) or 'no functions'})",
                     hint="`mhajudge list` shows the problems and `mhajudge show ID` their signatures; "
                          "or pass --problem ID")


def _most_specific(pool: list) -> list:
    """The problems of ``pool`` whose entry points are not a part of another's: a file that
    defines compute_qkv, self_attention and multi_head_attention is for mha-qkv, whose
    three they are, not for mha-batched, whose multi_head_attention is one of them."""
    names = {p.id: {ep.name for ep in p.entry_points} for p in pool}
    return [p for p in pool if not any(names[p.id] < names[q.id] for q in pool)]


def verdict_for(case, run: RunResult):
    """Turn what the child reported into (verdict, message, max error, details)."""
    from .check import check_answer

    if run.status == "ok":
        if case.expect != "value":
            return "wrong-answer", f"expected {case.expect} to be raised for these arguments, but it returned", None, ""
        if run.answer is None:
            return "wrong-answer", "no answer came back", None, ""
        if case.check is not None:
            try:
                o = case.check(case, run.answer)
            except Exception as exc:  # noqa: BLE001 - answers are hostile; a check they break is no verdict
                return ("runtime-error", f"the answer could not be checked ({type(exc).__name__}: {exc}); "
                        "is it the shape and type the problem declares?", None, "")
        else:
            o = check_answer(run.answer, case.expected, case.tolerance["atol"], case.tolerance["rtol"])
        return o.verdict or ("accepted" if o.ok else "wrong-answer"), o.message, o.max_abs_error, o.details
    if run.status == "raised":
        if run.exception == case.expect:
            return "accepted", "", None, ""
        if case.expect != "value":
            hint = (" (an assert is not the same: asserts vanish under `python -O`; raise ValueError)"
                    if run.exception == "AssertionError" else "")
            return "wrong-answer", f"expected {case.expect}, got {run.message}{hint}", None, ""
        if run.exception == "AssertionError":
            return "runtime-error", f"{run.message} (an assert failed on valid input)", None, ""
        return "runtime-error", run.message, None, ""
    if run.status == "bad-answer":
        return "wrong-answer", run.message, None, ""
    verdict = run.status if run.status in ("time-limit", "memory-limit", "runtime-error", "forbidden") else "runtime-error"
    return verdict, run.message, None, ""


def unexplained(report) -> set | None:
    """The failing cases' names no diagnosis explains (None: all of them are explained)."""
    if any("explains" not in d for d in report.diagnoses):
        return None
    explained = {n for d in report.diagnoses for n in d["explains"]}
    left = {c.name for c in report.cases if c.verdict == "wrong-answer"} - explained
    return left or None


def _find_divergence(problem, report, box, always: bool = False, hide: bool = False) -> None:
    from . import divergence

    names = None if always else unexplained(report)
    if names is None and not always:
        return
    if hide:  # what a trace says (a line, a factor) is the candidate's to choose: of sample cases only
        samples = {c.name for c in report.cases if c.group == "sample"}
        names = samples if names is None else set(names) & samples
        if not names:
            return
    try:
        report.divergence = divergence.find(problem, report, box, getattr(box, "sent_source", "") or "", names)
    except Exception:  # noqa: BLE001 - the trace only ever helps; it never costs a verdict
        report.divergence = None


def _trace(problem, report, box, hide: bool = False) -> None:
    from . import divergence

    shown = {c.name for c in report.cases if c.group == "sample" or not hide}  # --hide: a hidden case's shapes too
    failing = [c for c in report.cases if c.verdict != "accepted" and divergence.traceable(c.case) and c.name in shown]
    chosen = divergence.pick_case(report, shown) or (
        failing or [c for c in report.cases if divergence.traceable(c.case) and c.name in shown] or [None])[0]
    if chosen is None:
        return
    try:
        traced = divergence.trace_both(problem, box, chosen.case, getattr(box, "sent_source", "") or "")
    except Exception:  # noqa: BLE001 - a trace that cannot be had is shown as none
        traced = None
    if traced is not None:
        report.trace, report.trace_case = divergence.trace_rows(traced), chosen.name


SLOW = 20.0  # a correct answer this many times slower than the reference gets a note


def error_decade(err: float | None) -> float | None:
    """A hidden case's error size as the power of ten at or above it (0 stays 0), between
    1e-12 and 1e6: what ``--hide`` shows of a number the candidate can steer."""
    import math

    if err is None or not math.isfinite(err) or err <= 0:
        return err
    return float(min(max(10.0 ** math.ceil(math.log10(err)), 1e-12), 1e6))


def _speed(report: Report, hide: bool = False) -> None:
    """The candidate's time against the reference's, on the cases both ran correctly;
    with ``hide``, to two significant figures (a hidden case's time is the candidate's to
    choose, to the microsecond), and the slow note says no more than those."""
    # Only cases quick enough that both sides were timed as a median of repeats (see
    # median_time): one cold call of each is no ground for a ratio (a case whose model
    # calls cross to the child is called once and has no reference time: sandbox/serving.py).
    pairs = [(c.time_s, c.case.ref_time_s) for c in report.cases
             if c.verdict == "accepted" and c.time_s and c.case is not None and c.case.ref_time_s
             and c.case.ref_time_s <= REPEAT_BUDGET_S]
    if not pairs:
        return
    mine, ref = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    report.speed = {"time_s": round(mine, 9), "reference_time_s": round(ref, 9),  # to the ns: tiny cases stay exact
                    "ratio": round(mine / ref, 3) if ref > 0 else None}
    if hide:
        report.speed = {k: (float(f"{v:.2g}") if isinstance(v, float) else v) for k, v in report.speed.items()}
    # On the torch track each op costs microseconds of dispatch that NumPy does not pay on
    # tiny cases: against the NumPy reference a ratio says nothing about loops there.
    if ref > 0 and mine / ref > SLOW and mine > 0.01 and report.track != "torch":
        if hide:
            report.notes.append(f"correct, but about {report.speed['ratio']:g}x slower than the reference")
            return
        lines = (report.stdout or "").count("\n") + (report.stderr or "").count("\n")
        kept_all = "bytes not kept" not in (report.stdout or "") + (report.stderr or "")
        why = (f"it printed {'' if kept_all else 'more than '}{lines:,} lines as it ran, and printing takes "
               "time too (the reference prints nothing): take the prints out before you time it") if lines > 20 else (
               "probably looping in Python where one batched matmul (@ or einsum) over all heads and "
               "positions would do")
        report.notes.append(f"correct, but {mine / ref:.0f}x slower than the reference ({_ms(mine)} against "
                            f"{_ms(ref)}): {why}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} µs"


def judge_file(file, problem_id: str | None = None, *, secret: str | None = None,
               limits: Limits | None = None, hide: bool = False, groups: str = "all",
               diagnose: bool = True, problem=None, cases=None, isolate: bool | None = None,
               within=None, only: str | None = None, exitfirst: bool = False, source: str | None = None,
               on_case=None, sandbox: Sandbox | None = None, known: dict | None = None,
               notebook_skipped: int | None = None, trace: bool = False,
               find_divergence: bool | None = None) -> Report:
    """Judge one candidate file and return its :class:`Report`.

    ``problem`` and ``cases`` may be passed in when judging many files against the
    same cases (``grade`` builds them once). ``isolate``: True or False, or None
    for the rule of ``../shared/CLI.md``: isolated whenever ``MHAJUDGE_SECRET`` (or
    ``secret``) is set, and a :class:`JudgeError` where isolation cannot be had.
    ``within``: a folder the file must really be inside (``grade`` passes its own).
    ``only``: judge only the cases whose name contains it (``--case``); ``exitfirst``:
    stop at the first case that is not accepted (``-x``). ``source``: the file's text,
    already read (``grade`` reads and vets it once); ``file`` then only names it.
    ``on_case(i, n, name)`` is called before each case is run (a progress line).
    ``sandbox``: a started :class:`Sandbox` that already holds ``source`` (a warm child,
    see :class:`mhajudge.session.Session`), used and left open; ``known``: results of
    cases already judged on this same source (by name), taken as they are.
    ``notebook_skipped``: with ``source`` taken from a notebook, the lines left out.
    ``trace``: also trace one case (the first failing one, else the first) line by line
    for ``run --trace`` (``report.trace``); a divergence is looked for whenever a failing
    case is left unexplained by the diagnoses (``find_divergence=True``: on any failing
    case; False: never).
    """
    from .notebook import code_of, is_notebook
    from .sandbox import isolation
    from .cases import SECRET_VAR

    start = time.perf_counter()
    file = Path(file)
    if source is None and not file.is_file():
        what = "not a regular file" if file.exists() else "no such file"
        raise JudgeError(f"{what}: {file}", hint="give the path of a .py file")
    skipped = notebook_skipped
    if source is None and is_notebook(file):  # its code cells, as one file
        source, skipped = code_of(file)
    secret_set = bool(secret or os.environ.get(SECRET_VAR))
    isolate = isolation.resolve(isolate, secret=secret_set, grading=False)
    if secret_set:
        isolation.protect_judge()
    problem = problem or resolve_problem(file, problem_id)
    limits = limits or Limits()
    entry_points = [{"name": ep.name, "params": ep.params} for ep in problem.entry_points]
    if sandbox is not None:  # a warm child already holds the source, on its track
        track = sandbox.track
    else:
        track_text = source
        if track_text is None:  # read for its track only: the sandbox reads (and vets) it as before
            from .source import SourceError, read_source

            try:
                track_text = read_source(file, within=within)
            except SourceError:
                pass  # the sandbox says why not
        track = track_of(track_text)
    report = Report(problem=problem.id, file=str(file), isolated=isolate, track=track)
    header = read_header(track_text) if sandbox is None and track_text else None
    if problem_id and header and header != problem.id:
        report.notes.append(f"the file's header says {header}; it was judged as {problem.id}, as --problem says")
    if sandbox is not None:
        isolate = report.isolated = sandbox.isolate
        opened = contextlib.nullcontext(sandbox)
    else:
        opened = Sandbox(file, entry_points, banned_modules(problem, track), limits, isolate=isolate, within=within,
                         source=source, track=track, torch_forbidden=banned_calls(problem, track))
    with opened as box:
        # The child is starting; importing NumPy and drawing the cases here overlaps it.
        from . import cases as cases_mod
        from .diagnose import diagnose_report

        if cases is None:
            cases = cases_mod.build(problem, secret=secret, groups=groups)
        cases = select_cases(cases, only)
        loaded = box.wait_loaded()
        timeouts = 0  # in a row: after GIVE_UP of them the rest are not run
        for number, case in enumerate(cases, 1):
            if on_case is not None:
                on_case(number, len(cases), case.name)
            if timeouts >= GIVE_UP:
                result = CaseResult(case.name, case.group, "time-limit",
                                    message=f"not run, counted as out of time: the {GIVE_UP} cases before it each "
                                            "ran out of time, so the judge stopped running this file")
            elif not loaded.ok:
                result = CaseResult(case.name, case.group, loaded.verdict, message=loaded.message, from_load=True)
            elif case.fn in loaded.missing:
                result = CaseResult(case.name, case.group, "load-error", message=loaded.missing[case.fn],
                                    from_load=True)
            elif known and case.name in known:
                result = copy.copy(known[case.name])  # judged on this very source a moment ago
            else:
                # The next case that will run goes to the child as soon as this answer is in.
                upcoming = None if exitfirst else next(
                    (c for c in cases[number:] if c.fn not in loaded.missing and not (known and c.name in known)), None)
                then = None if upcoming is None else (upcoming.index, upcoming.program, upcoming.inputs,
                                                      upcoming.time_limit)
                run = box.run(case.index, case.program, case.inputs, case.time_limit, then=then)
                verdict, message, err, details = verdict_for(case, run)
                result = CaseResult(case.name, case.group, verdict, err, run.time_s, message,
                                    answer=run.answer, details=details,
                                    exception=run.exception if run.status == "raised" else None)
                timeouts = timeouts + 1 if verdict == "time-limit" else 0
            result.weight, result.fn, result.case = case.weight, case.fn, case
            report.cases.append(result)
            if exitfirst and result.verdict != "accepted":
                report.not_run = [(c.name, c.group, c.weight) for c in cases[number:]]
                break
        report.stdout, report.stderr = box.output()
        # After the verdict is settled: name the mistakes, then, for what they leave
        # unexplained, trace one small failing case to find where the code goes wrong.
        if diagnose and report.verdict != "accepted" and loaded.ok:
            report.diagnoses = diagnose_report(problem, report)
            if find_divergence is not False:
                _find_divergence(problem, report, box, always=bool(find_divergence), hide=hide)
        if trace and loaded.ok:
            _trace(problem, report, box, hide=hide)
    if not loaded.ok:
        report.load_message = loaded.message
    if skipped is not None:
        from .notebook import in_cells

        report.notes.append("judged the code cells of the notebook" + (
            f"; {skipped} IPython-only line(s) (magics, shell commands) left out" if skipped else ""))
        # Lines of the joined code mean nothing to someone looking at cells: say which cell.
        report.load_message = in_cells(report.load_message, source)
        for c in report.cases:
            c.message = in_cells(c.message, source)
        if not loaded.ok and loaded.verdict != "forbidden":
            report.notes.append("the judge runs every code cell in order, as Run All does: a scratch or test "
                                "cell that fails fails the notebook (delete it, or make it a markdown cell)")
    _speed(report, hide)
    if diagnose and report.verdict != "accepted" and not loaded.ok:
        report.diagnoses = diagnose_report(problem, report)
    if hide:  # a hidden case's inputs were in the candidate's process: nothing it chose may carry them out
        for c in report.cases:
            if c.group == "hidden":
                c.time_s = None  # its claimed time is the candidate's to choose, to the microsecond
                if not c.from_load:
                    c.message, c.details = "", ""
                # Its error size is |answer - expected|, and the candidate chooses its answer:
                # to the decade only, or a hidden input comes back in the digits.
                c.max_abs_error = error_decade(c.max_abs_error)
        report.stdout = report.stderr = ""
    report.wall_s = time.perf_counter() - start
    return report
