"""Showing the user's progress: the ``best`` column of ``list``, ``history``, ``stats``.

Reads :mod:`mhajudge.history` only; imports no NumPy, so ``mhajudge list`` stays fast.
"""

from __future__ import annotations

import time

from .history import Attempt, Best
from .results import COLOURS

STYLE = COLOURS  # plain colours in the tables of history and stats
BAR_WIDTH = 30


def clock(seconds: float | None) -> str:
    """``754.2`` -> ``12:34``; ``None`` -> ``-``."""
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


def best_cell(best: Best | None) -> list:
    """``accepted in 7:42`` (the shortest practice time), ``accepted``, ``accepted (numpy+torch)`` (the
    tracks it is solved on, when PyTorch is one), ``wrong-answer 12/18``, ``-``: as runs
    ``(text, style)`` for :mod:`mhajudge.terminal`."""
    if best is None:
        return [("-", "dim")]
    if best.solved:
        cell = [("accepted", "bold green")]
        if best.best_solve_s is not None:
            cell.append((f" in {clock(best.best_solve_s)}", ""))
        if best.tracks and best.tracks != ("numpy",):  # solved in PyTorch too, or only
            cell.append((f" ({'+'.join(best.tracks)})", "green"))
        return cell
    return [(f"{best.verdict} {best.passed}/{best.total}", STYLE.get(best.verdict, ""))]


def history_table(attempts: list[Attempt], problem: str | None = None, width: int = 80):
    """when, problem, verdict and cases passed, how (``practice 7:42``, ``run torch``), diagnoses;
    the judge's time and the file too when the terminal is wide."""
    from pathlib import Path

    from rich import box
    from rich.table import Table
    from rich.text import Text

    wide = width >= 110
    title = f"attempts at {problem}" if problem else "attempts"
    table = Table(title=f"{title}, newest first", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("when", no_wrap=True)
    if not problem:
        table.add_column("problem", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("how", no_wrap=wide)  # "run (some cases)" may take two lines at 80 columns
    if wide:
        table.add_column("judge", justify="right", no_wrap=True)
    table.add_column("diagnoses", overflow="fold", min_width=8)
    table.add_column("file", overflow="ellipsis", style="dim", min_width=10, max_width=30 if wide else 16)
    for a in attempts:
        verdict = Text(a.verdict, STYLE.get(a.verdict, ""))
        verdict.append(f" {a.passed}/{a.total}", "dim")
        how = a.mode + (" torch" if getattr(a, "track", "numpy") == "torch" else "")
        if a.groups in ("sample", "partial"):
            how += " (samples)" if a.groups == "sample" else " (some cases)"
        if a.solve_s is not None:
            how += f" {clock(a.solve_s)}"
        row = [time.strftime("%m-%d %H:%M", time.localtime(a.created_at))]
        if not problem:
            row.append(a.problem)
        row += [verdict, how]
        if wide:
            row.append("-" if a.duration_s is None else f"{a.duration_s:.1f}s")
        row.append(", ".join(a.diagnoses) or "-")
        row.append(Path(a.file).name if a.file else "-")
        table.add_row(*row)
    return table


def stats_renderables(problems: list, best: dict[str, Best], attempts: list[Attempt],
                      diagnoses: list[tuple[str, int]], catalogue: dict | None = None, width: int = 120) -> list:
    """Solved and attempted across the bank, by difficulty, and the most frequent diagnoses."""
    from rich.bar import Bar
    from rich.table import Table
    from rich.text import Text

    out = []
    bar_width = BAR_WIDTH if width >= 110 else 12  # at 80 columns the mistakes' titles need the room
    total = len(problems)
    solved = [p for p in problems if p.id in best and best[p.id].solved]
    tried = {a.problem for a in attempts}
    attempted = [p for p in problems if p.id in tried]
    full = [a for a in attempts if a.groups not in ("sample", "partial")]  # every case judged
    accepted_runs = sum(a.verdict == "accepted" for a in full)
    summary = Table.grid(padding=(0, 2))
    summary.add_column()
    summary.add_column(justify="right")
    summary.add_column(width=bar_width)
    summary.add_row(Text("solved", "bold"), f"{len(solved)}/{total}",
                    Bar(size=max(total, 1), begin=0, end=len(solved), width=bar_width, color="green"))
    summary.add_row(Text("attempted", "bold"), f"{len(attempted)}/{total}",
                    Bar(size=max(total, 1), begin=0, end=len(attempted), width=bar_width, color="yellow"))
    for level in ("easy", "medium", "hard"):
        of_level = [p for p in problems if p.difficulty == level]
        if of_level:
            n = sum(p in solved for p in of_level)
            summary.add_row(f"  {level}", f"{n}/{len(of_level)}",
                            Bar(size=len(of_level), begin=0, end=n, width=bar_width, color="green"))
    out.append(Text("Progress", "bold underline"))
    out.append(summary)
    some = len(attempts) - len(full)
    out.append(Text(f"{len(full)} full run{'' if len(full) == 1 else 's'}, {accepted_runs} accepted"
                    + (f"; {some} of some cases only (--samples, --case, -x)" if some else ""), "dim"))

    if diagnoses:
        catalogue = catalogue or {}
        top = diagnoses[0][1]
        table = Table(title="Most frequent mistakes", title_justify="left", title_style="bold underline",
                      box=None, padding=(0, 2))
        table.add_column("mistake", no_wrap=True, min_width=max(len(m) for m, _ in diagnoses[:8]))
        table.add_column("files", justify="right")  # versions of a file it was found in
        table.add_column("", width=bar_width)
        table.add_column("what it is", overflow="fold", style="dim")
        for mistake, count in diagnoses[:8]:
            table.add_row(mistake, str(count), Bar(size=top, begin=0, end=count, width=bar_width, color="red"),
                          catalogue.get(mistake, {}).get("title", ""))
        out.append(Text(""))
        out.append(table)
    elif attempts:
        out.append(Text("No named mistake diagnosed so far.", "dim"))
    unsolved = [p.id for p in attempted if p not in solved]
    if unsolved:
        out.append(Text(f"Attempted, not solved yet: {', '.join(unsolved)}"))
    return out
