"""The command line's shared pieces: the Typer app, the console, the error guard.

Each group of commands lives in its own module (:mod:`.bank`, :mod:`.judging`,
:mod:`.grading`, :mod:`.progress`), each a thin layer over the library;
:mod:`mhajudge.cli` loads them all. Exit codes (``../shared/CLI.md``): 0 accepted,
1 not accepted, 2 the judge could not judge. NumPy is imported only by commands
that judge.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from typing import Optional

import typer

from ..errors import JudgeError


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
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"mhajudge {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                          help="print the version and exit")) -> None:
    """Judge machine-learning interview code against hidden cases, in a sandbox."""


class Format(str, Enum):
    table = "table"
    json = "json"
    junit = "junit"
    gradescope = "gradescope"
    html = "html"


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def said(label: str, style: str, text):
    """``label: text`` for the terminal, the text as plain characters: a message may
    hold file names from a graded folder, which are neither markup nor escapes."""
    from rich.text import Text

    from ..untrusted import clean

    return Text.assemble((label, style), " ", clean(text))


def fail(exc: JudgeError) -> None:
    err = console(stderr=True)
    err.print(said("error:", "bold red", exc), soft_wrap=True)
    if exc.hint:
        err.print(said("hint:", "dim", exc.hint), soft_wrap=True)
    raise typer.Exit(2)


def complete_id(incomplete: str):
    """Shell completion of problem ids (``mhajudge --install-completion``)."""
    from ..bank import complete_problem_id

    return complete_problem_id(incomplete)


def guard(fn):
    """Judge-side failures print what went wrong and exit 2, never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except JudgeError as exc:
            fail(exc)
        except (typer.Exit, typer.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001
            if os.environ.get("MHAJUDGE_DEBUG"):
                raise
            fail(JudgeError(f"internal error: {type(exc).__name__}: {exc}",
                             hint="this is a bug in mhajudge; rerun with MHAJUDGE_DEBUG=1 for the traceback"))
    return wrapper


def isolation_choice(flag: Optional[bool], grading: bool = False) -> Optional[bool]:
    """``--isolate/--no-isolate`` as the library takes it (None: the contract's rule,
    decided in :func:`mhajudge.sandbox.isolation.resolve`); a warning when isolation that the
    rule requires is turned off by hand."""
    from ..cases import SECRET_VAR

    if flag is False and (grading or os.environ.get(SECRET_VAR)):
        why = "grading" if grading else "MHAJUDGE_SECRET is set"
        console(stderr=True).print(f"[yellow]warning:[/yellow] --no-isolate while {why}: candidates run as "
                                    "your user, under resource limits only, and hostile code can read the "
                                    "secret and the hidden answers", soft_wrap=True)
    return flag


def positive(value: Optional[float], flag: str) -> Optional[float]:
    if value is not None and value <= 0:
        raise JudgeError(f"{flag} must be a positive number of seconds, got {value}")
    return value


def as_json(obj) -> str:
    """Strict JSON: candidate text cleaned, NaN and infinities as null (``formats.plain``)."""
    from ..formats import plain

    return json.dumps(plain(obj), indent=2, allow_nan=False) + "\n"


def visibility_option():
    return typer.Option("after_published", "--visibility", metavar="WHEN",
                        help="Gradescope: when students see the hidden cases' tests: visible, hidden, "
                             "after_due_date or after_published (sample cases are always visible)")


def max_score_option():
    return typer.Option(None, "--max-score", metavar="POINTS",
                        help="Gradescope: the submission's total points (default: the sum of the case "
                             "weights, one point per case unless the spec weighs its groups)")


def check_max_score(value: Optional[float]) -> Optional[float]:
    """``--max-score``: a positive, finite number of points (Gradescope would show a
    negative or a NaN total as it is given)."""
    import math

    if value is not None and not (math.isfinite(value) and value > 0):
        raise JudgeError(f"--max-score must be a positive number of points, got {value:g}")
    return value


def check_visibility(value: str) -> str:
    from ..formats import VISIBILITIES

    if value not in VISIBILITIES:
        raise JudgeError(f"--visibility {value!r} is not one of {', '.join(VISIBILITIES)}")
    return value


def case_option():
    return typer.Option(None, "--case", metavar="NAME", help="judge only the cases whose name contains NAME")


def exitfirst_option():
    return typer.Option(False, "--exitfirst", "-x", help="stop at the first case that is not accepted")

