"""The import guard: banned modules refused in the source and at run time.

Two layers, both Python-level (an isolated sandbox adds the file system's: no banned
package is even there, see :mod:`mhajudge.sandbox.isolation`): a scan of the source
for imports of banned modules, done in the trusted process before any candidate
code runs, and a ``sys.meta_path`` finder installed in each case's process before
the candidate's module executes. Standard library only: the child loads this file
by path.
"""

from __future__ import annotations

import ast


class ForbiddenImport(ImportError):
    pass


class ImportGuard:
    """Refuses banned top-level modules, however they are imported.

    A finder on ``sys.meta_path`` needs only ``find_spec``; it does not derive from
    ``importlib.abc.MetaPathFinder``, whose import (``importlib.resources``, pathlib,
    tempfile, shutil, ...) would add ~9 ms to every sandbox's start for nothing."""

    def __init__(self, forbidden):
        self.forbidden = frozenset(forbidden)
        self.attempts: list[str] = []

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.forbidden:
            self.attempts.append(fullname)
            raise ForbiddenImport(f"import of '{fullname}' is not allowed here: solve it with NumPy", name=fullname)
        return None


def static_forbidden(tree: ast.AST, forbidden) -> tuple[str, int] | None:
    """The first banned import written in the source, with its line."""
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        for name in names:
            if name.partition(".")[0] in forbidden:
                return name, node.lineno
    return None
