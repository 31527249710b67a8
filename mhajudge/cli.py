"""The command line: a thin layer over the library (``mhajudge.judge`` and friends).

Exit codes (``../shared/CLI.md``): 0 accepted, 1 not accepted, 2 the judge could
not judge. NumPy is imported only by commands that judge.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from .errors import JudgeError

app = typer.Typer(
    name="mhajudge",
    help=("Judge machine-learning interview code (multi-head attention, masks, KV caches, "
          "sampling) against hidden cases, in a sandbox.\n\n"
          "Start with:\n\n"
          "  mhajudge list                  # the problems\n\n"
          "  mhajudge new sdpa              # a starter file, sdpa.py\n\n"
          "  mhajudge run sdpa.py           # judge it"),
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


class Format(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    gradescope = "gradescope"


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _said(label: str, style: str, text):
    """``label: text`` for the terminal, the text as plain characters: a message may
    hold file names from a graded folder, which are neither markup nor escapes."""
    from rich.text import Text

    from .untrusted import clean

    return Text.assemble((label, style), " ", clean(text))


def _fail(exc: JudgeError) -> None:
    err = _console(stderr=True)
    err.print(_said("error:", "bold red", exc), soft_wrap=True)
    if exc.hint:
        err.print(_said("hint:", "dim", exc.hint), soft_wrap=True)
    raise typer.Exit(2)


def _complete_id(incomplete: str):
    """Shell completion of problem ids (``mhajudge --install-completion``)."""
    from .bank import complete_problem_id

    return complete_problem_id(incomplete)


def _guard(fn):
    """Judge-side failures print what went wrong and exit 2, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except JudgeError as exc:
            _fail(exc)
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001
            if os.environ.get("MHAJUDGE_DEBUG"):
                raise
            _fail(JudgeError(f"internal error: {type(exc).__name__}: {exc}",
                             hint="this is a bug in mhajudge; rerun with MHAJUDGE_DEBUG=1 for the traceback"))
    return wrapper


@app.command("list")
@_guard
def list_cmd() -> None:
    """The problem bank: id, title, difficulty, tags and your best result so far.

    Example: [bold]mhajudge list[/bold]
    """
    from rich.table import Table

    from . import bank, history
    from .progress import best_cell

    best = history.safe("best", default={})
    table = Table(title="mhajudge problems", title_justify="left")
    for col in ("id", "title", "difficulty", "tags", "best"):
        table.add_column(col)
    for p in bank.load_all():
        table.add_row(p.id, p.title, p.difficulty, ", ".join(p.tags), best_cell(best.get(p.id)))
    _console().print(table)
    _console().print("[dim]mhajudge show ID for a statement, mhajudge new ID for a starter file[/dim]")


@app.command()
@_guard
def show(
    problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`",
                                     autocompletion=_complete_id),
    hints: bool = typer.Option(False, "--hints", help="only the hints, one at a time (Enter for the next)"),
    solution: bool = typer.Option(False, "--solution",
                                  help="only the reference solution; once you have solved the problem"),
    force: bool = typer.Option(False, "--force", help="with --solution: show it even if not solved yet"),
) -> None:
    """The statement, the signature, a worked sample and the pitfalls of one problem.

    Examples: [bold]mhajudge show sdpa[/bold], [bold]mhajudge show sdpa --hints[/bold],
    [bold]mhajudge show sdpa --solution[/bold]
    """
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    from . import bank

    problem = bank.load_problem(problem_id)
    con = _console()
    if hints or solution:
        _show_learning(problem, con, hints, solution, force)
        return
    con.rule(f"[bold]{problem.id}[/bold]: {problem.title}  [dim]({problem.difficulty})[/dim]")
    con.print(Markdown(problem.statement))
    con.print("\n[bold]Signature[/bold]")
    con.print(Syntax("\n".join(f"def {ep.signature}: ..." for ep in problem.entry_points), "python", word_wrap=True))
    _show_sample(problem, con)
    if problem.pitfalls:
        con.print("\n[bold]Think about[/bold]")
        for p in problem.pitfalls:
            con.print(f"  [ ] {p}")
    con.print(f"\n[dim]mhajudge new {problem.id}  writes a starter file[/dim]")


def _show_learning(problem, con, hints: bool, solution: bool, force: bool) -> None:
    """``show --hints`` / ``--solution``: the logic is in :mod:`mhajudge.learn`."""
    from . import learn

    if solution:
        learn.check_solution_allowed(problem, force)
    con.rule(f"[bold]{problem.id}[/bold]: {problem.title}")
    if hints:
        learn.show_hints(problem, con, interactive=sys.stdin.isatty() and sys.stdout.isatty())
    if solution:
        learn.show_solution(problem, con)


def _show_sample(problem, con) -> None:
    import numpy as np

    from .cases import build

    samples = build(problem, groups="sample")
    if not samples:
        return
    case = samples[0]
    con.print(f"\n[bold]Worked sample[/bold]: {case.name}")
    with np.printoptions(precision=4, suppress=True):
        for k, v in case.args.items():
            con.print(f"  {k} = {np.array2string(v, prefix='  ' + ' ' * (len(k) + 3)) if isinstance(v, np.ndarray) else repr(v)}")
        if case.expected:
            for name, v in case.expected[0].items():
                con.print(f"  -> {name} = {np.array2string(v, prefix='  ' + ' ' * (len(name) + 6))}")
        else:
            con.print(f"  -> raises {case.expect}")


def starter_source(problem) -> str:
    """The starter file's text (in :mod:`mhajudge.starter`, shared with ``practice``)."""
    from .starter import starter_source

    return starter_source(problem)


@app.command()
@_guard
def new(
    problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`",
                                     autocompletion=_complete_id),
    path: Optional[Path] = typer.Argument(None, help="where to write it (default: ID.py with _ for -)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
) -> None:
    """Write a starter file: the signature, a docstring and a `# mhajudge: ID` header.

    Example: [bold]mhajudge new mha-projected[/bold] writes mha_projected.py
    """
    from . import bank

    problem = bank.load_problem(problem_id)
    path = path or Path(problem.id.replace("-", "_") + ".py")
    if path.is_dir():
        path = path / (problem.id.replace("-", "_") + ".py")
    if path.exists() and not force:
        raise JudgeError(f"{path} exists; not overwriting it", hint="pass --force to replace it, or give another PATH")
    try:
        path.write_text(starter_source(problem), encoding="utf-8")
    except OSError as exc:
        raise JudgeError(f"cannot write {path}: {exc.strerror}") from None
    _console().print(f"wrote [bold]{path}[/bold]; judge it with [bold]mhajudge run {path}[/bold]")


@app.command()
@_guard
def run(
    file: Path = typer.Argument(..., help="the candidate's .py file"),
    problem: Optional[str] = typer.Option(None, "--problem", "-p", metavar="ID", autocompletion=_complete_id,
                                          help="the problem (default: the file's `# mhajudge: ID` header, "
                                               "else its function names)"),
    format: Format = typer.Option(Format.table, "--format", "-f",
                                  help="table for people; json (the contract), junit (XML) or gradescope (results.json) for tools"),
    hide: bool = typer.Option(False, "--hide", help="show only name, verdict and error size of hidden cases"),
    samples: bool = typer.Option(False, "--samples", help="judge the sample cases only (fast feedback)"),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", metavar="SECONDS",
                                               help="cap each case's wall-clock limit (the spec's, 10 s by default)"),
    watch: bool = typer.Option(False, "--watch", "-w",
                               help="judge again on every save: samples first, then every case; Ctrl-C stops"),
    no_record: bool = typer.Option(False, "--no-record",
                                   help="keep this run out of your history (also MHAJUDGE_NO_RECORD=1; off in CI)"),
    isolate: Optional[bool] = typer.Option(None, "--isolate/--no-isolate",
                                           help="run the file inside bubblewrap (no network, a read-only view of "
                                                "Python and NumPy only, its own PID namespace and uid). Default: "
                                                "isolated when MHAJUDGE_SECRET is set (exit 2 where bubblewrap is "
                                                "missing), else not"),
    perf: bool = typer.Option(False, "--perf", help="also time it on growing sequence lengths and fit "
                                                    "the exponent (attention should be ~L^2)"),
) -> None:
    """Judge one file against the sample and hidden cases.

    Exit code 0 when accepted, 1 when not, 2 when the judge could not judge.
    Limits: the spec's time per case, 120 s per file, 2 GiB of memory (for all the
    file's processes where control groups can be made, else per process).

    Examples:

      [bold]mhajudge run solution.py[/bold]

      [bold]mhajudge run solution.py --watch[/bold]

      [bold]mhajudge run attn.py --problem sdpa --format json[/bold]
    """
    from .judge import judge_file

    from .sandbox.runner import Limits

    limits = Limits(case_time_s=_positive(time_limit, "--time-limit"))
    if perf:  # say it now rather than after judging
        from .judge import resolve_problem
        from .perf import require_perf

        require_perf(resolve_problem(file, problem))
    if watch:
        raise typer.Exit(_run_watch(file, problem, format, hide, samples, no_record, limits, isolate))
    report = judge_file(file, problem, hide=hide, groups="sample" if samples else "all",
                        limits=limits, isolate=_isolation(isolate))
    from . import history

    history.record_report(report, groups="sample" if samples else "all", no_record=no_record)
    timing = None
    if perf:
        from . import bank, perf as perf_mod

        timing = perf_mod.measure(file, bank.load_problem(report.problem), limits, isolate=report.isolated)
    if format != Format.table:
        run_json = report.to_json()
        if timing is not None:
            run_json["perf"] = timing.to_json()
        _emit_run(run_json, format)
    else:
        from .render import render_report

        render_report(report, _console(), hide=hide)
        if timing is not None:
            perf_mod.render(timing, _console())
    raise typer.Exit(0 if report.verdict == "accepted" else 1)


def _run_watch(file: Path, problem: Optional[str], format: Format, hide: bool, samples: bool,
               no_record: bool, limits, isolate: Optional[bool] = None) -> int:
    """``run --watch``: the loop is :class:`mhajudge.watch.Watch`."""
    from .judge import judge_file
    from .watch import Watch

    if format != Format.table or samples:
        raise JudgeError("--watch shows tables and judges samples first by itself",
                         hint="drop --format and --samples when you use --watch")
    isolate = _isolation(isolate)

    def judge(f, pid, groups, hide_):
        return judge_file(f, pid, hide=hide_, groups=groups, limits=limits, isolate=isolate)

    return Watch(file, problem, _console(), hide=hide, no_record=no_record, judge=judge).forever()


def _json(obj) -> str:
    """Strict JSON: candidate text cleaned, NaN and infinities as null (``formats.plain``)."""
    from .formats import plain

    return json.dumps(plain(obj), indent=2, allow_nan=False) + "\n"


def _emit_run(run: dict, format: Format) -> None:
    from . import formats

    if format == Format.json:
        sys.stdout.write(_json(run))
    elif format == Format.junit:
        sys.stdout.write(formats.junit([formats.plain(run)], str(run["problem"])))
    else:
        sys.stdout.write(_json(formats.gradescope(run)))


def _emit_grade(result: dict, format: Format, csv_path: Optional[Path], output: Optional[Path]) -> None:
    """One grade object out in the asked format (to --output or stdout), and the CSV."""
    from . import formats

    result = formats.plain(result)  # also for `merge`, whose input is any JSON file
    if format == Format.table:
        formats.render_grade(result, _console())
        text = None
    elif format == Format.json:
        text = _json(result)
    elif format == Format.junit:
        text = formats.junit(result["submissions"], result["problem"])
    else:
        text = _json(formats.gradescope_many(result))
    try:
        if text is not None:
            if output:
                output.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
        if csv_path:
            csv_path.write_text(formats.csv_text(result), encoding="utf-8")
    except OSError as exc:
        raise JudgeError(f"cannot write {exc.filename}: {exc.strerror}") from None


@app.command()
@_guard
def grade(
    folder: Path = typer.Argument(..., metavar="DIR", help="a folder of submissions: .py files, or folders holding one"),
    problem: str = typer.Option(..., "--problem", "-p", metavar="ID", help="the problem every submission solves"),
    jobs: int = typer.Option(0, "--jobs", "-j", help="submissions judged at once (default: the number of cores)"),
    format: Format = typer.Option(Format.table, "--format", "-f", help="table, json, junit or gradescope"),
    csv_path: Optional[Path] = typer.Option(None, "--csv", metavar="PATH", help="also write one CSV row per submission"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the report here instead of stdout"),
    shard: Optional[str] = typer.Option(None, "--shard", metavar="K/N",
                                        help="judge only shard K of N (a CI matrix); join with `mhajudge merge`"),
    fail_under: Optional[float] = typer.Option(None, "--fail-under", metavar="RATE",
                                               help="exit 1 when fewer than this fraction (0-1) of submissions are accepted"),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", metavar="SECONDS",
                                               help="cap each case's wall-clock limit (the spec's, 10 s by default)"),
    isolate: Optional[bool] = typer.Option(None, "--isolate/--no-isolate",
                                           help="each submission runs inside bubblewrap, always (exit 2 where it "
                                                "is missing); --no-isolate runs them with resource limits only, "
                                                "as your user, with a warning"),
) -> None:
    """Judge every submission under DIR, in parallel, one row each.

    Hidden cases stay hidden: no inputs or expected values appear in any output.
    Keep MHAJUDGE_SECRET in your CI's secrets: it changes every hidden case.
    Every submission runs isolated (bubblewrap; exit 2 where it is missing). Memory:
    2 GiB and 72 processes per submission, in all, where the judge can make control
    groups (root in most CI containers); elsewhere those bounds hold per process.
    Exit 0 when every submission was judged, whatever the verdicts.

    DIR is treated as hostile: a source larger than 256 KiB (262,144 bytes), a
    symlink leading outside its submission, a FIFO, socket or device, or an
    unreadable file gets a load-error row saying why, and is never run.

    Examples:

      [bold]mhajudge grade submissions/ --problem sdpa[/bold]

      [bold]mhajudge grade submissions/ -p sdpa --format json --shard 1/4 -o shard1.json[/bold]

      [bold]mhajudge grade submissions/ -p sdpa --format junit -o junit.xml --csv grades.csv[/bold]
    """
    from .grading import grade as grade_all, parse_shard

    if fail_under is not None and not 0 <= fail_under <= 1:
        raise JudgeError(f"--fail-under {fail_under} must be a fraction between 0 and 1")
    progress, stop = _progress_bar(format)
    try:
        from .sandbox.runner import Limits

        limits = Limits(case_time_s=_positive(time_limit, "--time-limit"))
        result = grade_all(folder, problem, jobs=jobs or None, shard=parse_shard(shard), progress=progress,
                           limits=limits, isolate=_isolation(isolate, grading=True))
    finally:
        stop()
    _emit_grade(result, format, csv_path, output)
    raise typer.Exit(_grade_exit(result, fail_under))


def _isolation(flag: Optional[bool], grading: bool = False) -> Optional[bool]:
    """``--isolate/--no-isolate`` as the library takes it (None: the contract's rule,
    decided in :func:`mhajudge.sandbox.isolation.resolve`); a warning when isolation that the
    rule requires is turned off by hand."""
    from .cases import SECRET_VAR

    if flag is False and (grading or os.environ.get(SECRET_VAR)):
        why = "grading" if grading else "MHAJUDGE_SECRET is set"
        _console(stderr=True).print(f"[yellow]warning:[/yellow] --no-isolate while {why}: candidates run as "
                                    "your user, under resource limits only, and hostile code can read the "
                                    "secret and the hidden answers", soft_wrap=True)
    return flag


def _positive(value: Optional[float], flag: str) -> Optional[float]:
    if value is not None and value <= 0:
        raise JudgeError(f"{flag} must be a positive number of seconds, got {value}")
    return value


def _grade_exit(result: dict, fail_under: Optional[float]) -> int:
    subs = result["submissions"]
    if any(r.get("judge_error") for r in subs):
        _console(stderr=True).print("[bold red]error:[/bold red] the judge failed on some submissions (see their notes)")
        return 2
    if fail_under is not None and subs:
        rate = sum(r["verdict"] == "accepted" for r in subs) / len(subs)
        if rate < fail_under:
            _console(stderr=True).print(f"pass rate {rate:.1%} is under --fail-under {fail_under:.1%}")
            return 1
    return 0


def _progress_bar(format: Format):
    """A progress bar on a terminal (stderr), none in CI or when piped."""
    err = _console(stderr=True)
    if not err.is_terminal or os.environ.get("CI"):
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, transient=True)
    task = bar.add_task("grading", total=None)
    bar.start()

    def update(done, total, row):
        bar.update(task, completed=done, total=total)

    return update, bar.stop


@app.command()
@_guard
def merge(
    reports: list[Path] = typer.Argument(..., metavar="REPORT...", help="JSON reports of `grade --shard K/N`"),
    format: Format = typer.Option(Format.json, "--format", "-f", help="json (default), table, junit or gradescope"),
    csv_path: Optional[Path] = typer.Option(None, "--csv", metavar="PATH", help="also write one CSV row per submission"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the merged report here instead of stdout"),
) -> None:
    """Join the JSON reports of sharded `grade` runs into one.

    Example: [bold]mhajudge merge shard-*.json -o report.json[/bold]
    """
    from .grading import merge as merge_reports

    loaded = []
    for path in reports:
        try:
            loaded.append(json.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise JudgeError(f"cannot read {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise JudgeError(f"{path} is not JSON: {exc}", hint="merge the output of `mhajudge grade --format json`") from None
    _emit_grade(merge_reports(loaded, [str(p) for p in reports]), format, csv_path, output)


@app.command("practice")
@_guard
def practice_cmd(
    problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`",
                                     autocompletion=_complete_id),
    minutes: Optional[float] = typer.Option(None, "--minutes", "-m",
                                            help="the time limit (default: 20 easy, 30 medium, 45 hard)"),
    file: Optional[Path] = typer.Option(None, "--file", help="work in this file (default: a fresh ID_practice.py here)"),
    no_record: bool = typer.Option(False, "--no-record", help="keep the outcome out of your history"),
) -> None:
    """A timed interview: a starter file, a countdown, the samples judged on every save.

    Press [bold]s[/bold] to submit (every case is judged and the outcome recorded with
    the time taken), [bold]h[/bold] for a hint, [bold]q[/bold] to give up. Time running
    out submits the file as it is.

    Example: [bold]mhajudge practice sdpa --minutes 20[/bold]
    """
    from . import bank
    from .practice import Practice, default_minutes, prepare_file, run_in_terminal

    problem = bank.load_problem(problem_id)
    path, created = prepare_file(problem, file)
    con = _console()
    con.print(f"{'wrote a fresh starter file' if created else 'working in'} [bold]{path}[/bold]; "
              "open it in your editor, save to judge the samples")
    session = Practice(problem, path, minutes if minutes is not None else default_minutes(problem),
                       no_record=no_record)
    raise typer.Exit(run_in_terminal(session, con))


class _TableOrJson(str, Enum):
    table = "table"
    json = "json"


@app.command("history")
@_guard
def history_cmd(
    problem_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="only this problem's attempts",
                                               autocompletion=_complete_id),
    limit: int = typer.Option(20, "--limit", "-n", help="how many, newest first (0 for all)"),
    format: _TableOrJson = typer.Option(_TableOrJson.table, "--format", "-f", help="table, or json for tools"),
) -> None:
    """Your attempts: when, verdict, cases passed, time taken, diagnoses.

    Examples: [bold]mhajudge history[/bold], [bold]mhajudge history sdpa --limit 0[/bold]
    """
    from . import bank, history
    from .progress import history_table

    attempts = history.safe("attempts", problem_id, limit=limit or None, default=[])
    if problem_id and not attempts:
        bank.spec_path(problem_id)  # an unknown id is an error, not an empty history
    if format == _TableOrJson.json:
        sys.stdout.write(json.dumps({"attempts": [a.to_json() for a in attempts]}, indent=2) + "\n")
    elif not attempts:
        _console().print(f"no attempts{' at ' + problem_id if problem_id else ''} yet; "
                         "every `mhajudge run` and `mhajudge practice` is recorded")
    else:
        con = _console()
        con.print(history_table(attempts, problem_id, width=con.width))


@app.command("stats")
@_guard
def stats_cmd() -> None:
    """Your progress across the bank: solved, attempted, the most frequent mistakes.

    Example: [bold]mhajudge stats[/bold]
    """
    from . import bank, history
    from .progress import stats_renderables

    try:
        catalogue = bank.mistake_catalogue()
    except JudgeError:
        catalogue = {}
    con = _console()
    for part in stats_renderables(bank.load_all(), history.safe("best", default={}),
                                  history.safe("attempts", default=[]),
                                  history.safe("diagnosis_counts", default=[]), catalogue):
        con.print(part)


@app.command()
@_guard
def validate(
    path: Optional[Path] = typer.Argument(None, help="a spec (problems/ID.yaml) or a folder of them; default: the whole bank"),
    isolate: bool = typer.Option(False, "--isolate", help="judge the references inside bubblewrap"),
) -> None:
    """Check problem specs: schema, reference passes every case, each named mistake caught.

    For every named mistake (its code in reference/mistakes/), the hidden cases must
    reject it and the judge must diagnose it as itself. Exit 0 when all is valid,
    2 when anything is not.

    Examples:

      [bold]mhajudge validate[/bold]

      [bold]mhajudge validate problems/sdpa.yaml[/bold]
    """
    from . import validate as v

    checks = []
    for spec in v.spec_paths(path):
        checks.append(v.check_problem(spec, isolate=isolate))
    v.render(checks, _console())
    raise typer.Exit(0 if all(c.ok for c in checks) else 2)


def main() -> None:
    # One BLAS thread in the judge too: the reference's timings then compare with the
    # candidate's (which runs single-threaded), and parallel grading does not oversubscribe.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stopped)
    app()


def _stopped(signum, frame) -> None:
    """SIGTERM or SIGHUP (a closed terminal): close every sandbox, then exit at once.

    Each child also hears of the judge's death by itself (even a SIGKILL) and
    cleans up after its candidate, so nothing is left behind either way."""
    from .sandbox.runner import stop_all

    stop_all()
    try:
        sys.stderr.write(f"mhajudge: stopped by signal {signum}; every sandbox was closed\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(128 + signum)


if __name__ == "__main__":
    main()
