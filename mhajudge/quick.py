"""The commands a newcomer types first, answered without loading Typer and Click.

``mhajudge``, ``mhajudge --help``, ``mhajudge --version`` and ``mhajudge list`` are the
first things anyone runs, and Typer with Click costs more to import than NumPy does.
So :func:`answer` handles exactly these argument lists itself and returns an exit
code; for anything else it returns ``None`` and the full command line runs.

The top-level help is built from the same sources Typer uses (the app's help text and
each command's docstring, read from the command modules' syntax trees, in the order
``mhajudge.cli`` registers them) and laid out as Typer lays it out;
``tests/test_quick.py`` checks that the two print the same text.
``MHAJUDGE_NO_QUICK=1`` turns this off.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The order mhajudge.cli imports the command modules in, which is --help's order.
COMMAND_MODULES = ("bank", "judging", "grading", "progress", "authoring")
OPTIONS = (  # the app's own options, as Typer lists them
    ("--version", "", "print the version and exit"),
    ("--install-completion", "", "Install completion for the current shell."),
    ("--show-completion", "", "Show completion for the current shell, to copy it or customize the installation."),
    ("--help", "-h", "Show this message and exit."),
)


def answer(argv: list[str]) -> int | None:
    """Handle ``argv`` here if it is one of the quick commands; else ``None``."""
    if os.environ.get("MHAJUDGE_NO_QUICK"):
        return None
    if any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None  # the shell asks Click for completions (`_MHAJUDGE_COMPLETE=bash_complete`)
    if argv == ["--version"]:
        from . import __version__

        sys.stdout.write(f"mhajudge {__version__}\n")
        return 0
    if argv in (["--help"], ["-h"]):
        print_help(_console())
        return 0
    if argv == []:  # as Typer's no_args_is_help: the help, and the exit code of a usage error
        print_help(_console(), asked=False)
        return 2
    if argv == ["list"]:
        from .listing import print_bank

        print_bank(_console())
        return 0
    return None


def _console():
    from rich.console import Console

    return Console(highlight=False)


def _docstring_summary(doc: str) -> str:
    first = inspect.cleandoc(doc or "").partition("\f")[0].split("\n\n")[0]
    return first.replace("\n", " ").strip()


def commands() -> list[tuple[str, str]]:
    """``(name, summary)`` of every command, in ``--help``'s order, from the sources."""
    out = []
    for module in COMMAND_MODULES:
        tree = ast.parse((HERE / "commands" / f"{module}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                        and dec.func.attr == "command" and getattr(dec.func.value, "id", "") == "app"):
                    named = dec.args[0].value if dec.args and isinstance(dec.args[0], ast.Constant) else None
                    kw = {k.arg: k.value for k in dec.keywords}
                    if "hidden" in kw and isinstance(kw["hidden"], ast.Constant) and kw["hidden"].value:
                        continue
                    name = named or node.name.replace("_", "-")
                    out.append((name, _docstring_summary(ast.get_docstring(node, clean=False) or "")))
    return out


def app_help() -> str:
    """The Typer app's ``help=`` text, from ``mhajudge/commands/__init__.py``."""
    tree = ast.parse((HERE / "commands" / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Typer":
            for k in node.keywords:
                if k.arg == "help":
                    return ast.literal_eval(k.value)
    return ""


def print_help(console, asked: bool = True) -> None:
    """The top-level help, laid out as Typer's rich help is (``asked``: by --help,
    which Click ends with an empty line; not when no command was given)."""
    from rich.align import Align
    from rich.console import Group
    from rich.padding import Padding
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    # The program's name as Click tells it: `python -m mhajudge` when run as a module.
    prog = "python -m mhajudge" if sys.argv[0].endswith("__main__.py") else os.path.basename(sys.argv[0] or "mhajudge")
    console.print(Padding(Text.assemble(("Usage: ", "yellow"), f"{prog} [OPTIONS] COMMAND [ARGS]..."), 1),
                  style="bold")
    first, *rest = inspect.cleandoc(app_help()).split("\n\n")
    parts = [Text.from_markup(first.replace("\n", " ").strip())]
    if rest:
        parts += [Text(""), Text.from_markup(inspect.cleandoc("\n\n".join(rest)), style="dim")]
    console.print(Padding(Align(Group(*parts), pad=False), (0, 1, 1, 1)))

    options = Table(highlight=True, show_header=False, expand=True, box=None, show_lines=False, leading=0,
                    pad_edge=False, padding=(0, 1))
    for _ in range(5):
        options.add_column()
    options.add_column(ratio=1)  # the help takes what is left, as Typer's does
    for long, short, text in OPTIONS:
        # Typer's columns: long and short names, their negations, the type, the help.
        options.add_row(Text(long, "bold cyan"), Text(short, "bold green"), Text(""), Text(""), Text(""), Text(text))
    console.print(Panel(options, border_style="dim", title="Options", title_align="left"))

    rows = commands()
    table = Table(highlight=False, show_header=False, expand=True, box=None, show_lines=False, leading=0,
                  pad_edge=False, padding=(0, 1))
    table.add_column(style="bold cyan", no_wrap=True, width=max(len(n) for n, _ in rows))
    table.add_column("Description", justify="left", no_wrap=False, ratio=10)
    for name, summary in rows:
        table.add_row(Text(name), Text.from_markup(summary))
    console.print(Panel(table, border_style="dim", title="Commands", title_align="left"))
    if asked:
        console.print()
