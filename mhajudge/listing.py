"""``mhajudge list``: the bank's table, and the index it is drawn from.

The table needs four fields of each spec (id, title, difficulty, tags), but parsing
every YAML spec costs more than the rest of the command. So the index is kept in a
small JSON file beside the history (``cache/bank-index.json``), valid while every spec
file has the name, size and modification time it had when the index was made; any
change, or an unreadable cache, and the specs are read again. Nothing here imports
Typer or NumPy (see :mod:`mhajudge.quick`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIELDS = ("id", "title", "difficulty", "tags")


def _stamp(folder: Path) -> list:
    return sorted([e.name, st.st_mtime_ns, st.st_size]
                  for e in os.scandir(folder) if e.name.endswith(".yaml") for st in [e.stat()])


def _cache_file() -> Path:
    from .history import data_dir

    return data_dir() / "cache" / "bank-index.json"


def index() -> list[dict]:
    """``{id, title, difficulty, tags}`` of every problem, sorted by id."""
    from . import bank

    stamp = [str(bank.problems_dir()), _stamp(bank.problems_dir())]
    cache = _cache_file()
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


def bank_table(best: dict):
    """The problems with your best result on each."""
    from rich.table import Table

    from .progress import best_cell

    table = Table(title="mhajudge problems", title_justify="left")
    # At 80 columns: ids, difficulty and best whole on one line; titles and tags wrap.
    table.add_column("id", no_wrap=True)
    table.add_column("title", ratio=3)
    table.add_column("difficulty", no_wrap=True)
    table.add_column("tags", ratio=2)
    table.add_column("best", no_wrap=True)
    for p in index():
        table.add_row(p["id"], p["title"], p["difficulty"], ", ".join(p["tags"]), best_cell(best.get(p["id"])))
    return table


def print_bank(console) -> None:
    from . import history

    console.print(bank_table(history.safe("best", default={})))
    console.print("[dim]mhajudge show ID for a statement, mhajudge new ID for a starter file[/dim]")
