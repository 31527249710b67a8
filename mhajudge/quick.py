"""The commands a newcomer types first, answered without loading Typer and Click.

``mhajudge``, ``mhajudge --help``, ``mhajudge --version`` and ``mhajudge list`` are the
first things anyone runs, and Typer with Click costs more to import than NumPy does.
So :func:`answer` handles exactly these argument lists itself and returns an exit
code; for anything else it returns ``None`` and the full command line runs.

The top-level help is built from the same sources Typer uses (the app's help text and
each command's docstring, read from the command modules' syntax trees, in the order
``mhajudge.cli`` registers them) and laid out as Typer lays it out, without Rich
(:mod:`mhajudge.terminal`); ``tests/test_quick.py`` checks that the two say the same
words in the same order.
``MHAJUDGE_NO_QUICK=1`` turns this off.
"""

from __future__ import annotations

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
        print_help()
        return 0
    if argv == []:  # as Typer's no_args_is_help: the help, and the exit code of a usage error
        print_help(asked=False)
        return 2
    if argv == ["list"]:
        from .listing import print_bank

        print_bank()
        return 0
    return None


def _docstring_summary(doc: str) -> str:
    import inspect

    first = inspect.cleandoc(doc or "").partition("\f")[0].split("\n\n")[0]
    return first.replace("\n", " ").strip()


def commands() -> list[tuple[str, str]]:
    """``(name, summary)`` of every command, in ``--help``'s order, from the sources."""
    import ast

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
    import ast

    tree = ast.parse((HERE / "commands" / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Typer":
            for k in node.keywords:
                if k.arg == "help":
                    return ast.literal_eval(k.value)
    return ""


def print_help(out=None, asked: bool = True) -> None:
    """The top-level help, laid out as Typer's rich help is (``asked``: by --help,
    which Click ends with an empty line; not when no command was given), with
    :mod:`mhajudge.terminal` (no Rich: it costs more to import than the rest of this)."""
    import inspect

    from .terminal import Out, columns, from_markup, panel, wrap

    out = out or Out()
    inner = out.width - 2  # one space each side, as Typer pads it
    # The program's name as Click tells it: `python -m mhajudge` when run as a module.
    prog = "python -m mhajudge" if sys.argv[0].endswith("__main__.py") else os.path.basename(sys.argv[0] or "mhajudge")
    out.print("", [(" ", ""), ("Usage: ", "bold yellow"), (f"{prog} [OPTIONS] COMMAND [ARGS]...", "bold")], "")
    first, *rest = inspect.cleandoc(app_help()).split("\n\n")
    for line in wrap(from_markup(first.replace("\n", " ").strip()), inner):
        out.print([(" ", "")] + line)
    if rest:
        out.print("")
        for text in inspect.cleandoc("\n\n".join(rest)).split("\n"):
            if not text:
                out.print("")
                continue
            for line in wrap(from_markup(text, "dim"), inner) if len(text) > inner else [from_markup(text, "dim")]:
                out.print([(" ", "")] + line)
    out.print("")
    longest, shortest = max(len(o[0]) for o in OPTIONS), max(len(o[1]) for o in OPTIONS)
    rows = [[[(long, "bold cyan")], [(short, "bold green")], [(text, "")]] for long, short, text in OPTIONS]
    panel(out, "Options", columns(rows, [longest, shortest, None], out.width - 4, gap=2))
    rows = commands()
    cells = [[[(name, "bold cyan")], from_markup(summary)] for name, summary in rows]
    panel(out, "Commands", columns(cells, [max(len(n) for n, _ in rows), None], out.width - 4, gap=2))
    if asked:
        out.print("")
