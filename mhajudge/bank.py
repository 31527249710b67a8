"""The problem bank: where the specs and reference solutions live on disk.

Looked up, in order: ``$MHAJUDGE_BANK`` (a folder holding ``problems/`` and
``reference/``); the copy installed inside the package (``mhajudge/_bank``);
the source checkout the package was imported from.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from pathlib import Path

from .errors import JudgeError, SpecError

PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def root() -> Path:
    env = os.environ.get("MHAJUDGE_BANK")
    candidates = [Path(env)] if env else []
    candidates += [PACKAGE / "_bank", PACKAGE.parent]
    for c in candidates:
        if (c / "problems").is_dir() and (c / "reference").is_dir():
            return c
    raise JudgeError("cannot find the problem bank (problems/ and reference/)",
                     hint="reinstall mhajudge, or set MHAJUDGE_BANK to a folder holding problems/ and reference/")


def problems_dir() -> Path:
    return root() / "problems"


def reference_dir() -> Path:
    return root() / "reference"


def problem_ids() -> list[str]:
    return sorted(p.stem for p in problems_dir().glob("*.yaml") if p.stem != "mistakes")


def spec_path(problem_id: str) -> Path:
    path = problems_dir() / f"{problem_id}.yaml"
    if problem_id == "mistakes" or not path.is_file():
        import difflib

        ids = problem_ids()
        close = difflib.get_close_matches(problem_id, ids, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise JudgeError(f"unknown problem {problem_id!r}",
                         hint=f"{hint}`mhajudge list` shows the problems: {', '.join(ids)}")
    return path


@functools.lru_cache(maxsize=None)
def load_problem(problem_id: str):
    from .spec import load

    return load(spec_path(problem_id))


def load_all() -> list:
    return [load_problem(pid) for pid in problem_ids()]


def mistake_catalogue() -> dict:
    """The shared descriptions of named mistakes: ``problems/mistakes.yaml``."""
    from .spec import catalogue

    return catalogue(problems_dir() / "mistakes.yaml")


def _reference_package():
    """Make ``reference/`` importable as the package ``mhajudge_reference``.

    Reference and mistake modules import each other by that name
    (``from mhajudge_reference.sdpa import softmax``). It exists only in the
    judge's process; the candidate's child never sees it.
    """
    if "mhajudge_reference" not in sys.modules:
        import types

        pkg = types.ModuleType("mhajudge_reference")
        pkg.__path__ = [str(reference_dir())]
        sys.modules["mhajudge_reference"] = pkg


@functools.lru_cache(maxsize=None)
def reference_module(name: str, kind: str = ""):
    """Import ``reference/[kind/]name.py``; None if a ``kind`` module is absent."""
    path = (reference_dir() / kind if kind else reference_dir()) / f"{name}.py"
    if not path.is_file():
        if kind:
            return None
        raise SpecError(f"reference/{name}.py: missing; every problem needs a reference solution")
    _reference_package()
    try:
        module = importlib.import_module(f"mhajudge_reference.{kind + '.' if kind else ''}{name}")
    except Exception as exc:  # a broken reference is a spec error, not a crash
        raise SpecError(f"{path.relative_to(root())}: does not import: {type(exc).__name__}: {exc}") from None
    if kind in ("drivers", "mistakes"):
        from .author import check_module

        check_module(module, kind, str(path.relative_to(root())))
    return module


def complete_problem_id(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of problem ids (Typer's ``autocompletion=``): (id, title) pairs."""
    try:
        ids = [pid for pid in problem_ids() if pid.startswith(incomplete)]
    except JudgeError:
        return []
    out = []
    for pid in ids:
        try:
            title = load_problem(pid).title
        except JudgeError:  # a broken spec still completes, without its title
            title = ""
        out.append((pid, title))
    return out
