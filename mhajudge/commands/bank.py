"""The bank: ``list``, ``show``, ``new``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import JudgeError

from . import app, console, complete_id, guard


@app.command("list")
@guard
def list_cmd() -> None:
    """The problem bank: id, title, difficulty, tags and your best result so far.

    Example: [bold]mhajudge list[/bold]
    """
    from ..listing import print_bank

    print_bank()


@app.command()
@guard
def show(
    problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`",
                                     autocompletion=complete_id),
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
    from rich.text import Text

    from .. import bank

    problem = bank.load_problem(problem_id)
    con = console()
    if hints or solution:
        _show_learning(problem, con, hints, solution, force)
        return
    con.rule(f"[bold]{problem.id}[/bold]: {problem.title}  [dim]({problem.difficulty})[/dim]")
    if problem.tags:
        from rich.markup import escape

        con.print(f"[dim]tags: {escape(', '.join(problem.tags))}[/dim]")
    con.print(Markdown(problem.statement))
    con.print("\n[bold]Signature[/bold] (NumPy: arrays in, arrays out)")
    con.print(Syntax("import numpy as np\n\n" + "\n".join(f"def {ep.signature}: ..." for ep in problem.entry_points),
                     "python", word_wrap=True))
    con.print("\n[bold]Signature[/bold] (PyTorch track: CPU tensors in, tensors out; masks torch.bool, "
              "generators torch.Generator)")
    con.print(Syntax("import torch\n\n" + "\n".join(f"def {ep.signature}: ..." for ep in problem.entry_points),
                     "python", word_wrap=True))
    from ..track import banned_calls

    con.print(Text("  not allowed: " + ", ".join(banned_calls(problem, "torch")), "dim"))
    _show_sample(problem, con)
    if problem.pitfalls:
        con.print("\n[bold]Think about[/bold]")
        for p in problem.pitfalls:
            con.print(f"  [ ] {p}")
    con.print(f"\n[dim]mhajudge new {problem.id}  writes a starter file (--torch: a PyTorch one)[/dim]")


def _show_learning(problem, con, hints: bool, solution: bool, force: bool) -> None:
    """``show --hints`` / ``--solution``: the logic is in :mod:`mhajudge.learn`."""
    from .. import learn

    if solution:
        learn.check_solution_allowed(problem, force)
    con.rule(f"[bold]{problem.id}[/bold]: {problem.title}")
    if hints:
        learn.show_hints(problem, con, interactive=sys.stdin.isatty() and sys.stdout.isatty())
    if solution:
        learn.show_solution(problem, con)


def _show_sample(problem, con) -> None:
    import numpy as np
    from rich.text import Text

    from ..cases import build

    samples = build(problem, groups="sample")
    if not samples:
        return
    case = samples[0]
    con.print(f"\n[bold]Worked sample[/bold]: {case.name}")
    with np.printoptions(precision=4, suppress=True):
        for k, v in case.args.items():
            if isinstance(v, dict) and set(v) == {"$model"}:  # a function of the judge's (sandbox/models.py)
                shown = f"(the judge's {v['$model'].get('kind', '')} model, {len(v['$model'].get('embed', []))} tokens)"
            elif isinstance(v, dict) and v and all(isinstance(a, np.ndarray) for a in v.values()):
                shown = "{" + ", ".join(f"{n!r}: array {a.shape}" for n, a in v.items()) + "}"  # weights: shapes
            else:
                shown = np.array2string(v, prefix='  ' + ' ' * (len(k) + 3)) if isinstance(v, np.ndarray) else repr(v)
            con.print(Text(f"  {k} = {shown}"))
        if case.expected:
            for name, v in case.expected[0].items():
                con.print(Text(f"  -> {name} = {np.array2string(v, prefix='  ' + ' ' * (len(name) + 6))}"))
        elif case.expect == "value":  # a random answer: judged on the law of many calls
            con.print("  -> judged on the distribution of many calls (see How it is judged)")
        else:
            con.print(f"  -> raises {case.expect}")


def starter_source(problem, track: str = "numpy") -> str:
    """The starter file's text (in :mod:`mhajudge.starter`, shared with ``practice``)."""
    from ..starter import starter_source

    return starter_source(problem, track)


@app.command()
@guard
def new(
    problem_id: str = typer.Argument(..., metavar="ID", help="a problem id from `mhajudge list`",
                                     autocompletion=complete_id),
    path: Optional[Path] = typer.Argument(None, help="where to write it (default: ID.py with _ for -)"),
    force: bool = typer.Option(False, "--force", help="overwrite an existing file"),
    torch: bool = typer.Option(False, "--torch", help="a PyTorch starter: tensors in and out, judged on the "
                                                       "torch track (needs pip install 'mhajudge[torch]')"),
) -> None:
    """Write a starter file: the signature, a docstring and a `# mhajudge: ID` header.

    Examples: [bold]mhajudge new mha-projected[/bold] writes mha_projected.py;
    [bold]mhajudge new sdpa --torch[/bold] writes a PyTorch one
    """
    from .. import bank

    problem = bank.load_problem(problem_id)
    path = path or Path(problem.id.replace("-", "_") + ".py")
    if path.is_dir():
        path = path / (problem.id.replace("-", "_") + ".py")
    if path.suffix not in (".py", ".ipynb"):
        raise JudgeError(f"{path}: a starter is a .py file or a Jupyter notebook (.ipynb)",
                         hint=f"e.g. mhajudge new {problem.id} {path.with_suffix('.py')}")
    if path.exists() and not force:
        raise JudgeError(f"{path} exists; not overwriting it", hint="pass --force to replace it, or give another PATH")
    text = starter_source(problem, "torch" if torch else "numpy")
    if path.suffix == ".ipynb":  # one code cell holding the starter, as Jupyter writes a notebook
        from ..notebook import notebook_of

        text = notebook_of(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # `new sdpa practice/week1/sdpa.py` makes the folders
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise JudgeError(f"cannot write {path}: {exc.strerror}") from None
    from rich.markup import escape

    shown = escape(str(path))
    console().print(f"wrote [bold]{shown}[/bold]; judge it with [bold]mhajudge run {shown}[/bold]")
