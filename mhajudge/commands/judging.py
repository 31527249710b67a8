"""Judging one file: ``run`` (with ``--watch`` and ``--perf``)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import JudgeError

from . import (Format, app, as_json, case_option, check_visibility, complete_id, console, exitfirst_option, guard,
               isolation_choice, check_max_score, max_score_option, positive, visibility_option)


@app.command()
@guard
def run(
    file: Path = typer.Argument(..., help="the candidate's .py file"),
    problem: Optional[str] = typer.Option(None, "--problem", "-p", metavar="ID", autocompletion=complete_id,
                                          help="the problem (default: the file's `# mhajudge: ID` header, "
                                               "else its function names)"),
    format: Format = typer.Option(Format.table, "--format", "-f",
                                  help="table for people; json (the contract), junit (XML) or gradescope (results.json) "
                                       "for tools; html: grade's page for this one file, on stdout "
                                       "(hidden cases' messages withheld)"),
    hide: Optional[bool] = typer.Option(None, "--hide/--show-hidden",
                                        help="show only name, verdict and error size of hidden cases (default: "
                                             "shown in the table; hidden in --format gradescope, and in every "
                                             "machine format when CI is set)"),
    visibility: str = visibility_option(),
    max_score: Optional[float] = max_score_option(),
    case: Optional[str] = case_option(),
    exitfirst: bool = exitfirst_option(),
    save_failing: Optional[Path] = typer.Option(None, "--save-failing", metavar="DIR",
                                                help="write the first failing sample case's inputs, a .npy file per "
                                                     "parameter in DIR/<case>, to load in a notebook or give to "
                                                     "mhajudge try --args"),
    samples: bool = typer.Option(False, "--samples", help="judge the sample cases only (fast feedback)"),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", metavar="SECONDS",
                                               help="cap each case's wall-clock limit (the spec's, 10 s by default)"),
    watch: bool = typer.Option(False, "--watch", "-w",
                               help="judge again on every save: samples first, then every case; Ctrl-C stops"),
    no_record: bool = typer.Option(False, "--no-record",
                                   help="keep this run out of your history (also when MHAJUDGE_NO_RECORD is 1; always in CI)"),
    isolate: Optional[bool] = typer.Option(None, "--isolate/--no-isolate",
                                           help="run the file inside bubblewrap (no network, a read-only view of "
                                                "Python and NumPy only, its own PID namespace and uid). Default: "
                                                "isolated when MHAJUDGE_SECRET is set (exit 2 where bubblewrap is "
                                                "missing), else not"),
    perf: bool = typer.Option(False, "--perf", help="also time it on growing sequence lengths and fit "
                                                    "the exponent (attention should be ~L^2)"),
    trace: bool = typer.Option(False, "--trace", help="narrate the shapes: trace one case (the smallest failing "
                                                      "one, else the first) line by line and show each line's "
                                                      "array shapes beside the reference's shape annotations"),
) -> None:
    """Judge one file against the sample and hidden cases.

    Exit code 0 when accepted, 1 when not, 2 when the judge could not judge.
    Limits: the spec's time per case, 120 s per file, 2 GiB of memory (for all the
    file's processes where control groups can be made, else per process).

    Examples:

      [bold]mhajudge run solution.py[/bold]

      [bold]mhajudge run solution.py --watch[/bold]

      [bold]mhajudge run attn.py --problem sdpa --format json[/bold]

      [bold]mhajudge run attn.py --trace[/bold]   (every line's shapes, beside the reference's)
    """
    from ..judge import judge_file

    from ..sandbox.runner import Limits

    limits = Limits(case_time_s=positive(time_limit, "--time-limit"))
    from ..environment import in_ci

    visibility = check_visibility(visibility)
    max_score = check_max_score(max_score)
    if hide is None:  # an autograder's output never shows a hidden case's details unless asked
        hide = format == Format.gradescope or (format != Format.table and in_ci())
    if perf:  # say it now rather than after judging
        from ..judge import resolve_problem
        from ..perf import require_perf

        require_perf(resolve_problem(file, problem))
    if watch and save_failing is not None:
        raise JudgeError("--save-failing saves one run's failing case; --watch judges on every save",
                         hint=f"run once without --watch: mhajudge run {file} --save-failing {save_failing}")
    if watch:
        raise typer.Exit(_run_watch(file, problem, format, hide, samples, no_record, limits, isolate))
    if file.is_dir():
        raise JudgeError(f"{file} is a folder; `run` judges one file",
                         hint=f"to judge every submission in it: mhajudge grade {file} --problem ID")
    with _progress(format) as on_case:
        report = judge_file(file, problem, hide=hide, groups="sample" if samples else "all", limits=limits,
                            isolate=isolation_choice(isolate), only=case, exitfirst=exitfirst, on_case=on_case,
                            trace=trace)
    from .. import history

    groups = "sample" if samples else "partial" if (case or exitfirst) else "all"
    history.record_report(report, groups=groups, no_record=no_record)
    timing = None
    if perf:
        from .. import bank, perf as perf_mod

        timing = perf_mod.measure(file, bank.load_problem(report.problem), limits, isolate=report.isolated)
    if format != Format.table:
        run_json = report.to_json()
        if timing is not None:
            run_json["perf"] = timing.to_json()
        if report.trace is not None:
            run_json["trace"] = {"case": report.trace_case,
                                 "lines": [dict(r, shape=list(r["shape"])) for r in report.trace]}
        _emit_run(run_json, format, max_score, visibility)
    else:
        from ..render import render_report

        render_report(report, console(), hide=hide)
        if report.trace is not None:
            from ..render import render_trace

            render_trace(report, console())
        if timing is not None:
            perf_mod.render(timing, console())
    if save_failing is not None:  # after the report, so it is the last thing said
        _save_failing(report, save_failing, file, hidden_shown=not hide)
    raise typer.Exit(0 if report.verdict == "accepted" else 1)


@contextlib.contextmanager
def _progress(format: Format):
    """On a terminal, a line saying which case is being judged (a slow case shows it waits)."""
    from ..environment import in_ci

    err = console(stderr=True)
    if format != Format.table or not err.is_terminal or in_ci():
        yield None
        return
    with err.status("judging...") as status:
        yield lambda i, n, name: status.update(f"judging case {i}/{n}: {name}")


def _save_failing(report, folder: Path, file: Path, hidden_shown: bool) -> None:
    """``--save-failing DIR``: the first failing sample case's inputs (:mod:`mhajudge.repro`);
    else, when this run showed hidden cases in full (no secret, not hidden), the first
    failing hidden case's. A failure to write is said, and the verdict stands."""
    import os

    from rich.markup import escape

    from ..cases import SECRET_VAR
    from ..repro import SaveError, save_case
    from ..untrusted import shown_name

    err = console(stderr=True)
    failing = [c for c in report.cases if c.verdict != "accepted" and c.case is not None]
    pick = next((c for c in failing if c.group == "sample"), None)
    if pick is None and hidden_shown and not os.environ.get(SECRET_VAR):
        pick = next(iter(failing), None)
    if pick is None:
        err.print("no sample case failed: nothing saved" if not failing
                  else "only hidden cases failed, and their inputs are not shown in this run: nothing saved")
        return
    try:
        target, saved = save_case(pick.case.args, folder, pick.name)
    except SaveError as exc:
        err.print(f"[yellow]--save-failing: {escape(str(exc))}[/yellow]", soft_wrap=True)
        return
    loads = ", ".join(f"{n.replace('/', '_')} = np.load({str(target / n) + '.npy'!r})" for n in saved[:6])
    err.print(f"saved the inputs of {escape(pick.name)!r} in {escape(shown_name(str(target)))}: {escape(loads)}"
              f"{', ...' if len(saved) > 6 else ''}\nto run it again: mhajudge try {escape(shown_name(str(file)))} "
              f"--problem {report.problem} --args {escape(shown_name(str(target)))}", soft_wrap=True)


def _run_watch(file: Path, problem: Optional[str], format: Format, hide: bool, samples: bool,
               no_record: bool, limits, isolate: Optional[bool] = None) -> int:
    """``run --watch``: the loop is :class:`mhajudge.watch.Watch`, judging in a warm
    :class:`mhajudge.session.Session` (one child for every save, the cases built once)."""
    from ..session import Session
    from ..watch import Watch

    if format != Format.table or samples:
        raise JudgeError("--watch shows tables and judges samples first by itself",
                         hint="drop --format and --samples when you use --watch")
    isolate = isolation_choice(isolate)

    with Session(file, problem, limits=limits, isolate=isolate) as session:
        def judge(f, pid, groups, hide_):
            return session.judge(groups, hide=hide_)

        return Watch(file, problem, console(), hide=hide, no_record=no_record, judge=judge).forever()


def _emit_run(run: dict, format: Format, max_score: Optional[float], visibility: str) -> None:
    from .. import formats

    if format == Format.json:
        sys.stdout.write(as_json(run))
    elif format == Format.junit:
        sys.stdout.write(formats.junit([formats.plain(run)], str(run["problem"])))
    elif format == Format.html:  # the grade page of a class of one, so both read alike
        from ..html_report import render

        sys.stdout.write(render({"problem": run["problem"], "submissions": [{"path": run["file"], **run}]}))
    else:
        sys.stdout.write(as_json(formats.gradescope(run, max_score, visibility)))


@app.command("try")
@guard
def try_cmd(
    file: Path = typer.Argument(..., help="your .py file"),
    problem: Optional[str] = typer.Option(None, "--problem", "-p", metavar="ID", autocompletion=complete_id,
                                          help="the problem (default: the file's header, else its function names)"),
    args: Path = typer.Option(..., "--args", metavar="ARGS.py|ARGS.npz",
                              help="the inputs: a .npz of arrays, or a .py that sets variables named like the "
                                   "parameters (Q = np.random.randn(2, 4, 8)); a dict of arrays is a dict there "
                                   "(params/embed, ... in a .npz); beam-search's step is given by its model's arrays: "
                                   "step = dict(embed=(V, D), W_h=(D, D), W_out=(D, V), bias=(V,))"),
    fn: Optional[str] = typer.Option(None, "--fn", metavar="NAME", help="which entry point (default: the first)"),
    isolate: Optional[bool] = typer.Option(None, "--isolate/--no-isolate", help="as for run"),
) -> None:
    """Run your code and the reference on inputs you choose; show both answers and their difference.

    Nothing hidden is involved. Exit 0 when the answers agree, 1 when not.

    Example: [bold]mhajudge try attn.py --problem sdpa --args my_case.npz[/bold]
    """
    from ..trying import render, try_inputs

    tried = try_inputs(file, problem, args, fn, isolate=isolation_choice(isolate))
    render(tried, console())
    raise typer.Exit(0 if tried.verdict == "accepted" else 1)

