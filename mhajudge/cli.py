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


def _fail(exc: JudgeError) -> None:
    err = _console(stderr=True)
    err.print(f"[bold red]error:[/bold red] {exc}", soft_wrap=True)
    if exc.hint:
        err.print(f"[dim]hint:[/dim] {exc.hint}", soft_wrap=True)
    raise typer.Exit(2)


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
    """The problem bank: id, title, difficulty and tags.

    Example: [bold]mhajudge list[/bold]
    """
    from rich.table import Table

    from . import bank

    table = Table(title="mhajudge problems", title_justify="left")
    for col in ("id", "title", "difficulty", "tags", "best"):
        table.add_column(col)
    for p in bank.load_all():
        table.add_row(p.id, p.title, p.difficulty, ", ".join(p.tags), "-")
    _console().print(table)
    _console().print("[dim]mhajudge show ID for a statement, mhajudge new ID for a starter file[/dim]")


@app.command()
@_guard
def show(problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`")) -> None:
    """The statement, the signature, a worked sample and the pitfalls of one problem.

    Example: [bold]mhajudge show sdpa[/bold]
    """
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    from . import bank

    problem = bank.load_problem(problem_id)
    con = _console()
    con.rule(f"[bold]{problem.id}[/bold]: {problem.title}  [dim]({problem.difficulty})[/dim]")
    con.print(Markdown(problem.statement))
    con.print("\n[bold]Signature[/bold]")
    con.print(Syntax("\n".join(f"def {ep.signature}: ..." for ep in problem.entry_points), "python"))
    _show_sample(problem, con)
    if problem.pitfalls:
        con.print("\n[bold]Think about[/bold]")
        for p in problem.pitfalls:
            con.print(f"  [ ] {p}")
    con.print(f"\n[dim]mhajudge new {problem.id}  writes a starter file[/dim]")


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
    lines = [f"# mhajudge: {problem.id}", f'"""{problem.title}: `mhajudge show {problem.id}` has the statement."""',
             "", "import numpy as np", ""]
    for ep in problem.entry_points:
        lines += ["", f"def {ep.signature}:"]
        doc = ep.doc.strip() or f"Return {ep.returns}."
        lines += ['    """' + doc.replace("\n", "\n    ").rstrip() + '\n    """', "    raise NotImplementedError", ""]
    return "\n".join(lines)


@app.command()
@_guard
def new(
    problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`"),
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
    problem: Optional[str] = typer.Option(None, "--problem", "-p", metavar="ID",
                                          help="the problem (default: the file's `# mhajudge: ID` header, "
                                               "else its function names)"),
    format: Format = typer.Option(Format.table, "--format", "-f",
                                  help="table for people; json (the contract), junit (XML) or gradescope (results.json) for tools"),
    hide: bool = typer.Option(False, "--hide", help="show only name, verdict and error size of hidden cases"),
    samples: bool = typer.Option(False, "--samples", help="judge the sample cases only (fast feedback)"),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", metavar="SECONDS",
                                               help="cap each case's wall-clock limit (the spec's, 10 s by default)"),
) -> None:
    """Judge one file against the sample and hidden cases.

    Exit code 0 when accepted, 1 when not, 2 when the judge could not judge.

    Examples:

      [bold]mhajudge run solution.py[/bold]

      [bold]mhajudge run attn.py --problem sdpa --format json[/bold]
    """
    from .judge import judge_file

    from .runner import Limits

    report = judge_file(file, problem, hide=hide, groups="sample" if samples else "all",
                        limits=Limits(case_time_s=_positive(time_limit, "--time-limit")))
    if format != Format.table:
        _emit_run(report.to_json(), format)
    else:
        from .render import render_report

        render_report(report, _console(), hide=hide)
    raise typer.Exit(0 if report.verdict == "accepted" else 1)


def _emit_run(run: dict, format: Format) -> None:
    from . import formats

    if format == Format.json:
        sys.stdout.write(json.dumps(run, indent=2) + "\n")
    elif format == Format.junit:
        sys.stdout.write(formats.junit([run], run["problem"]))
    else:
        sys.stdout.write(json.dumps(formats.gradescope(run), indent=2) + "\n")


def _emit_grade(result: dict, format: Format, csv_path: Optional[Path], output: Optional[Path]) -> None:
    """One grade object out in the asked format (to --output or stdout), and the CSV."""
    from . import formats

    if format == Format.table:
        formats.render_grade(result, _console())
        text = None
    elif format == Format.json:
        text = json.dumps(result, indent=2) + "\n"
    elif format == Format.junit:
        text = formats.junit(result["submissions"], result["problem"])
    else:
        text = json.dumps(formats.gradescope_many(result), indent=2) + "\n"
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
) -> None:
    """Judge every submission under DIR, in parallel, one row each.

    Hidden cases stay hidden: no inputs or expected values appear in any output.
    Keep MHAJUDGE_SECRET in your CI's secrets: it changes every hidden case.
    Exit 0 when every submission was judged, whatever the verdicts.

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
        from .runner import Limits

        limits = Limits(case_time_s=_positive(time_limit, "--time-limit"))
        result = grade_all(folder, problem, jobs=jobs or None, shard=parse_shard(shard), progress=progress,
                           limits=limits)
    finally:
        stop()
    _emit_grade(result, format, csv_path, output)
    raise typer.Exit(_grade_exit(result, fail_under))


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
