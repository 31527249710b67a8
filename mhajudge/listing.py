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


def print_bank(out=None) -> None:
    """The problems with your best result on each, and what to type next
    (``out``: a :class:`mhajudge.terminal.Out`, standard output by default)."""
    from . import history
    from .progress import best_cell
    from .terminal import Out, runs, table

    out = out or Out()
    best = history.safe("best", default={})
    rows = [[runs(p["id"]), runs(p["title"]), runs(p["difficulty"]), runs(", ".join(p["tags"])),
             best_cell(best.get(p["id"]))] for p in index()]
    # At 80 columns: ids and difficulty whole on one line; titles, tags and best wrap.
    table(out, ["id", "title", "difficulty", "tags", "best"], rows, ratios=[0, 3, 0, 2, 1],
          title="mhajudge problems")
    out.print([("mhajudge show ID for a statement, mhajudge new ID for a starter file", "dim")])
