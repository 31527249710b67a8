"""Judging a Jupyter notebook: its code cells, as one Python file.

Many candidates practise in notebooks. ``mhajudge run solution.ipynb`` judges the
code cells in order, joined into one source. IPython's own syntax has no meaning
in plain Python, so a line magic (``%timeit``), a shell line (``!pip install``,
``files = !ls``), a help request (``np.zeros?``) and a cell magic (``%%bash``) are
left out (each replaced by a comment, so that line numbers keep their place within
the cell), and the report says how many lines were. A cell magic that runs its cell
as Python (``%%time``, ``%%timeit``, ``%%capture``, ``%%prun``) keeps the cell: only
its first line goes. Cells are numbered as the notebook shows them, markdown cells
included. Outputs, markdown and attachments are ignored.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import JudgeError

NOTEBOOK_LIMIT = 16 << 20  # bytes of a notebook read (outputs make them far larger than their code)
PYTHON_CELL_MAGICS = ("time", "timeit", "capture", "prun")  # they run the cell's body as Python
_SHELL_ASSIGNMENT = re.compile(r"^\s*[A-Za-z_][\w, ]*=\s*!")   # files = !ls
_HELP = re.compile(r"^\s*[A-Za-z_][\w.]*\?{1,2}\s*$")           # np.zeros?  out??


def is_notebook(path) -> bool:
    return Path(path).suffix == ".ipynb"


def notebook_of(code: str) -> str:
    """A notebook (nbformat 4) of one code cell holding ``code``: ``new ID x.ipynb``."""
    cell = {"cell_type": "code", "execution_count": None, "id": "starter", "metadata": {}, "outputs": [],
            "source": code.splitlines(True)}
    return json.dumps({"cells": [cell], "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                                     "name": "python3"},
                                                      "language_info": {"name": "python"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def code_of(path, text: str | None = None) -> tuple[str, int]:
    """(the notebook's code cells joined, how many IPython-only lines were left out)."""
    if text is None:
        from .source import SourceError, read_source

        try:
            text = read_source(path, limit=NOTEBOOK_LIMIT)
        except SourceError as exc:
            raise JudgeError(f"{path}: {exc}") from None
    try:
        cells = json.loads(text)["cells"]
        sources = [(n, c.get("source", "")) for n, c in enumerate(cells, 1)
                   if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, MemoryError) as exc:
        kind = "nested too deeply to read" if isinstance(exc, RecursionError) else str(exc)
        raise JudgeError(f"{path} is not a Jupyter notebook (.ipynb JSON with cells): {kind}") from None
    skipped, parts = 0, []
    for n, src in sources:
        if isinstance(src, list) and all(isinstance(x, str) for x in src):
            src = "".join(src)
        if not isinstance(src, str):
            raise JudgeError(f"{path}: cell {n}'s source is not text (a string or a list of strings)")
        lines = src.splitlines()
        magic = lines[0].strip()[2:].split(maxsplit=1) if lines and lines[0].lstrip().startswith("%%") else None
        if magic is not None and (magic[:1] or [""])[0] in PYTHON_CELL_MAGICS:
            skipped += 1  # its body is Python, as Jupyter runs it
            lines[0] = f"# mhajudge: skipped an IPython cell magic line ({lines[0].strip()[:40]})"
            body = range(1, len(lines))
        elif magic is not None:  # a cell magic: the whole cell is IPython's (or a shell's)
            skipped += len(lines)
            lines = [f"# mhajudge: skipped an IPython cell magic ({lines[0].strip()[:40]})"]
            body = range(0)
        else:
            body = range(len(lines))
        statement = _Statement()
        for j in body:
            line = lines[j]
            if not statement.continued and (line.lstrip().startswith(("%", "!")) or _SHELL_ASSIGNMENT.match(line)
                                            or _HELP.match(line)):
                indent = line[:len(line) - len(line.lstrip())]
                lines[j] = f"{indent}pass  # mhajudge: skipped an IPython line: {line.strip()[:40]}"
                skipped += 1
            else:
                statement.read(line)
        parts.append(f"# --- cell {n} ---\n" + "\n".join(lines))
    code = "\n\n".join(parts) + "\n"
    from .source import SOURCE_LIMIT

    if len(code.encode("utf-8", "surrogateescape")) > SOURCE_LIMIT:
        raise JudgeError(f"{path}: its code cells hold more than {SOURCE_LIMIT >> 10} KiB of code, "
                         f"more than a solution may have", hint="judge the cells of your solution, not the whole notebook")
    return code, skipped


class _Statement:
    """Whether the next line of a cell continues a statement begun above it: inside
    brackets, inside a triple-quoted string, or after a backslash. Such a line is Python
    whatever it starts with, as IPython reads it: a formatter that breaks lines before
    an operator writes ``% n`` and ``!= 0`` at the start of one, and a docstring may
    hold ``%timeit``. One pass over the lines kept, as Python's tokenizer reads them."""

    TRIPLE = ('"""', "'''")

    def __init__(self):
        self.depth = 0          # brackets open
        self.quote = None       # the quote of a string still open: a triple one, or one before a backslash
        self.backslash = False  # the last line ended with a backslash, outside a triple-quoted string

    @property
    def continued(self) -> bool:
        return self.depth > 0 or self.quote is not None or self.backslash

    def read(self, line: str) -> None:
        i, n, comment = 0, len(line), False
        while i < n:
            c = line[i]
            if self.quote is not None:  # inside a string: only its closing quote counts
                if c == "\\":
                    i += 2
                elif line.startswith(self.quote, i):
                    i += len(self.quote)
                    self.quote = None
                else:
                    i += 1
                continue
            if c == "#":  # a backslash at its end continues nothing
                comment = True
                break
            if c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            elif c in "\"'":
                self.quote = line[i:i + 3] if line[i:i + 3] in self.TRIPLE else c
                i += len(self.quote)
                continue
            i += 1
        self.backslash = line.endswith("\\") and not comment and self.quote not in self.TRIPLE
        if self.quote is not None and self.quote not in self.TRIPLE and not self.backslash:
            self.quote = None  # a one-quote string ends with its line (left open, a syntax error anyway)


_CELL = re.compile(r"^# --- cell (\d+) ---$", re.M)
_LINE = re.compile(r"(\(|\bat |\bon )line (\d+)\b")


def in_cells(message: str, code: str) -> str:
    """``message`` with each line number of the joined ``code`` (``(line 24: ...``, ``at line
    24``) told as the notebook's cell and the line within it (``(cell 3, line 5: ...``)."""
    if not message or not code:
        return message
    starts = [(code.count("\n", 0, m.start()) + 2, int(m.group(1))) for m in _CELL.finditer(code)]

    def where(m):
        n = int(m.group(2))
        cell = next(((first, c) for first, c in reversed(starts) if first <= n), None)
        if cell is None:
            return m.group(0)
        return f"{m.group(1)}cell {cell[1]}, line {n - cell[0] + 1}"

    return _LINE.sub(where, message)
