"""The user's practice and progress: ``practice``, ``history``, ``stats``."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..errors import JudgeError

from . import app, console, complete_id, guard


@app.command("practice")
@guard
def practice_cmd(
    problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`",
                                     autocompletion=complete_id),
    minutes: Optional[float] = typer.Option(None, "--minutes", "-m",
                                            help="the time limit (default: 20 easy, 30 medium, 45 hard)"),
    file: Optional[Path] = typer.Option(None, "--file", help="work in this file (default: a fresh ID_practice.py here)"),
    no_record: bool = typer.Option(False, "--no-record", help="keep the outcome out of your history"),
    torch: bool = typer.Option(False, "--torch", help="practise in PyTorch: a torch starter, judged on the torch track"),
) -> None:
    """A timed interview: a starter file, a countdown, the samples judged on every save.

    Press [bold]s[/bold] to submit (every case is judged and the outcome recorded with
    the time taken; a submission ends the session, right or wrong, as in an interview),
    [bold]h[/bold] for a hint, [bold]r[/bold] to judge the samples again, [bold]q[/bold] to
    give up. Time running out submits the file as it is.

    Example: [bold]mhajudge practice sdpa --minutes 20[/bold]
    """
    from .. import bank
    from ..practice import Practice, default_minutes, prepare_file, run_in_terminal

    problem = bank.load_problem(problem_id)
    if minutes is not None and not minutes > 0:  # before any file is written
        raise JudgeError(f"--minutes must be positive, got {minutes:g}")
    path, created = prepare_file(problem, file, track="torch" if torch else "numpy")
    con = console()
    from rich.markup import escape

    con.print(f"{'wrote a fresh starter file' if created else 'working in'} [bold]{escape(str(path))}[/bold]; "
              "open it in your editor, save to judge the samples")
    session = Practice(problem, path, minutes if minutes is not None else default_minutes(problem),
                       no_record=no_record)
    raise typer.Exit(run_in_terminal(session, con))


class _TableOrJson(str, Enum):
    table = "table"
    json = "json"


@app.command("history")
@guard
def history_cmd(
    problem_id: Optional[str] = typer.Argument(None, metavar="[ID]", help="only this problem's attempts",
                                               autocompletion=complete_id),
    limit: int = typer.Option(20, "--limit", "-n", help="how many, newest first (0 for all)"),
    format: _TableOrJson = typer.Option(_TableOrJson.table, "--format", "-f", help="table, or json for tools"),
) -> None:
    """Your attempts: when, verdict, cases passed, time taken, diagnoses.

    Examples: [bold]mhajudge history[/bold], [bold]mhajudge history sdpa --limit 0[/bold]
    """
    from .. import bank, history
    from ..progress import history_table

    if limit < 0:
        raise JudgeError(f"--limit {limit} must be a number of attempts (0 for all)")
    attempts = history.safe("attempts", problem_id, limit=limit or None, default=[])
    if problem_id and not attempts:
        bank.spec_path(problem_id)  # an unknown id is an error, not an empty history
    if format == _TableOrJson.json:
        sys.stdout.write(json.dumps({"attempts": [a.to_json() for a in attempts]}, indent=2) + "\n")
    elif not attempts:
        console().print(f"no attempts{' at ' + problem_id if problem_id else ''} yet; "
                         "every `mhajudge run` and `mhajudge practice` is recorded")
    else:
        con = console()
        con.print(history_table(attempts, problem_id, width=con.width))


@app.command("stats")
@guard
def stats_cmd() -> None:
    """Your progress across the bank: solved, attempted, the most frequent mistakes.

    Example: [bold]mhajudge stats[/bold]
    """
    from .. import bank, history
    from ..progress import stats_renderables

    try:
        catalogue = bank.mistake_catalogue()
    except JudgeError:
        catalogue = {}
    con = console()
    for part in stats_renderables(bank.load_all(), history.safe("best", default={}),
                                  history.safe("attempts", default=[]),
                                  history.safe("diagnosis_counts", default=[]), catalogue, width=con.width):
        con.print(part)
