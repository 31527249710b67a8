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
    format: Format = typer.Option(Format.table, "--format", "-f", help="table for people, json for tools"),
    hide: bool = typer.Option(False, "--hide", help="show only name, verdict and error size of hidden cases"),
    samples: bool = typer.Option(False, "--samples", help="judge the sample cases only (fast feedback)"),
) -> None:
    """Judge one file against the sample and hidden cases.

    Exit code 0 when accepted, 1 when not, 2 when the judge could not judge.

    Examples:

      [bold]mhajudge run solution.py[/bold]

      [bold]mhajudge run attn.py --problem sdpa --format json[/bold]
    """
    from .judge import judge_file

    report = judge_file(file, problem, hide=hide, groups="sample" if samples else "all")
    if format == Format.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        from .render import render_report

        render_report(report, _console(), hide=hide)
    raise typer.Exit(0 if report.verdict == "accepted" else 1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
