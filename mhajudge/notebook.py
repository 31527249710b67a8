"""Judging a Jupyter notebook: its code cells, as one Python file.

Many candidates practise in notebooks. ``mhajudge run solution.ipynb`` judges the
code cells in order, joined into one source. IPython's own syntax has no meaning
in plain Python, so a line magic (``%timeit``), a shell line (``!pip install``) and
a cell magic (``%%time``) are left out (each replaced by a comment, so that line
numbers keep their place within the cell), and the report says how many were.
Outputs, markdown and attachments are ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import JudgeError

NOTEBOOK_LIMIT = 16 << 20  # bytes of a notebook read (outputs make them far larger than their code)


def is_notebook(path) -> bool:
    return Path(path).suffix == ".ipynb"


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
        sources = [c.get("source", "") for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise JudgeError(f"{path} is not a Jupyter notebook (.ipynb JSON with cells): {exc}") from None
    skipped, parts = 0, []
    for i, src in enumerate(sources):
        lines = ("".join(src) if isinstance(src, list) else str(src)).splitlines()
        if lines and lines[0].lstrip().startswith("%%"):  # a cell magic: the whole cell is IPython's
            skipped += len(lines)
            lines = [f"# mhajudge: skipped an IPython cell magic ({lines[0].strip()[:40]})"]
        else:
            for j, line in enumerate(lines):
                if line.lstrip().startswith(("%", "!")):
                    indent = line[:len(line) - len(line.lstrip())]
                    lines[j] = f"{indent}pass  # mhajudge: skipped an IPython line: {line.strip()[:40]}"
                    skipped += 1
        parts.append(f"# --- cell {i + 1} ---\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n", skipped
