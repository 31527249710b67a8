"""Learning aids for ``mhajudge show``: hints one at a time, the reference solution
once the problem has been solved (or with ``--force``)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .errors import JudgeError


def show_hints(problem, console, *, interactive: bool, ask: Callable[[str], str] | None = None) -> int:
    """Print the hints: one at a time, Enter for the next, when ``interactive``;
    else all of them, numbered. Returns how many were shown."""
    hints = problem.hints
    if not hints:
        console.print(f"{problem.id} has no hints; `mhajudge show {problem.id}` lists the pitfalls")
        return 0
    ask = ask or (lambda prompt: console.input(prompt))
    for i, hint in enumerate(hints, 1):
        console.print(f"[bold]hint {i}/{len(hints)}[/bold]: {hint}", soft_wrap=True)
        if interactive and i < len(hints):
            try:
                answer = ask("[dim]Enter for the next hint, q to stop[/dim] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return i
            if answer.strip().lower().startswith("q"):
                return i
    return len(hints)


def solution_path(problem) -> Path:
    from . import bank

    return bank.reference_dir() / f"{problem.reference}.py"


def check_solution_allowed(problem, force: bool, solved: Callable[[str], bool] | None = None) -> None:
    """Raise unless ``force`` or the history has an accepted attempt at the problem."""
    if force:
        return
    if solved is None:
        from . import history

        def solved(pid):
            return history.safe("solved", pid, default=False)

    if not solved(problem.id):
        raise JudgeError(f"the reference solution of {problem.id} is shown once you have solved it "
                         f"(no accepted attempt in your history)",
                         hint=f"get it accepted with `mhajudge run FILE` or `mhajudge practice {problem.id}`; "
                              "or pass --force to see it now")


def show_solution(problem, console) -> None:
    from rich.syntax import Syntax

    path = solution_path(problem)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise JudgeError(f"cannot read the reference solution {path}: {exc.strerror}") from None
    console.print(f"\n[bold]Reference solution[/bold] [dim]({path.name})[/dim]")
    console.print(Syntax(source, "python", word_wrap=True))
