"""``mhajudge list``: the bank's table, and the index it is drawn from.

The table needs four fields of each spec (id, title, difficulty, tags), but parsing
every YAML spec costs more than the rest of the command. So the index is kept in a
small JSON file beside the history (``cache/bank-index-HASH.json``, one per problems
folder), valid while every spec
file has the name, size and modification time it had when the index was made; any
change, or an unreadable cache, and the specs are read again. Nothing here imports
Typer, Rich or NumPy (see :mod:`mhajudge.quick`, :mod:`mhajudge.terminal`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIELDS = ("id", "title", "difficulty", "tags")


def _stamp(folder: Path) -> list:
    return sorted([e.name, st.st_mtime_ns, st.st_size]
                  for e in os.scandir(folder) if e.name.endswith(".yaml") for st in [e.stat()])


def _cache_file(folder: Path) -> Path:
    """One index per problems folder, so two checkouts (or a benchmark of two commits)
    do not take turns to throw each other's away."""
    import hashlib

    from .history import data_dir

    return data_dir() / "cache" / f"bank-index-{hashlib.sha1(str(folder).encode()).hexdigest()[:12]}.json"


def index() -> list[dict]:
    """``{id, title, difficulty, tags}`` of every problem, sorted by id."""
    from . import bank

    folder = bank.problems_dir()
    stamp = [str(folder), _stamp(folder)]
    cache = _cache_file(folder)
    try:
        kept = json.loads(cache.read_text(encoding="utf-8"))
        if kept.get("stamp") == stamp and all(set(p) == set(FIELDS) for p in kept["problems"]):
            return kept["problems"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    problems = [{"id": p.id, "title": p.title, "difficulty": p.difficulty, "tags": list(p.tags)}
                for p in bank.load_all()]
    try:  # a cache we cannot write costs time, never the answer
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"stamp": stamp, "problems": problems}), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass
    return problems


NARROW = 60      # below this many columns, no table
WITH_TAGS = 110  # from this many, a tags column


def print_bank(out=None) -> None:
    """The problems with your best result on each, and what to type next
    (``out``: a :class:`mhajudge.terminal.Out`, standard output by default)."""
    from . import history
    from .progress import best_cell
    from .terminal import Out, runs, table

    out = out or Out()
    best = history.safe("best", default={})
    problems = index()
    if out.width < NARROW:  # a table cannot fit: a problem per paragraph, its id first and whole
        from .terminal import wrap

        out.print([("mhajudge problems", "italic")])
        for p in problems:
            out.print([(p["id"], "bold"), ("  " + p["difficulty"], "dim"), ("  ", "")] + best_cell(best.get(p["id"])))
            for line in wrap(runs(p["title"]), max(out.width - 4, 10)):
                out.print([("    ", "")] + line)
        _footer(out, "mhajudge show ID: its statement and tags; mhajudge new ID: a starter file")
        return
    wide = out.width >= WITH_TAGS
    rows = [[runs(p["id"]), runs(p["title"]), runs(p["difficulty"])] + ([runs(", ".join(p["tags"]))] if wide else [])
            + [best_cell(best.get(p["id"]))] for p in problems]
    # At 80 columns: ids and difficulty whole on one line; titles (and best) wrap at spaces,
    # and the tags wait for a wider terminal (`show ID` lists them).
    headers = ["id", "title", "difficulty"] + (["tags"] if wide else []) + ["best"]
    table(out, headers, rows, ratios=[0, 3, 0] + ([2] if wide else []) + [1], title="mhajudge problems")
    _footer(out, "mhajudge show ID for a statement, mhajudge new ID for a starter file" if wide
            else "mhajudge show ID: its statement and tags; mhajudge new ID: a starter file")


def _footer(out, text: str) -> None:
    from .terminal import runs, wrap

    for line in wrap(runs(text, "dim"), max(out.width - 1, 10)):
        out.print(line)
