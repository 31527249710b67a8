"""Grading many submissions: find them, judge each in its own sandbox, in parallel.

    from mhajudge.grading import grade
    result = grade("submissions/", "sdpa", jobs=2)      # the contract's JSON object
    result["submissions"][0]["verdict"]

The cases are drawn once and shared by every submission (each still runs in its
own child process). Rows are sorted by path, whatever order the workers finish
in. A submission that breaks the judge itself still gets a row.
"""

from __future__ import annotations

import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import JudgeError

PREFERRED = ("solution.py", "main.py", "submission.py")
SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", "node_modules", ".ipynb_checkpoints"}


@dataclass
class Submission:
    path: str                  # as shown in reports: relative to the graded folder
    file: Path | None          # the .py file to judge, or None when it cannot be chosen
    problem: str = ""          # why no file was chosen


def _pick(folder: Path) -> tuple[Path | None, str]:
    files = sorted(p for p in folder.rglob("*.py")
                   if not SKIP_DIRS.intersection(p.relative_to(folder).parts[:-1]))
    if not files:
        return None, "the folder holds no .py file"
    if len(files) == 1:
        return files[0], ""
    for name in PREFERRED:
        for f in files:
            if f.name == name and f.parent == folder:
                return f, ""
    headed = [f for f in files if "# mhajudge:" in f.read_text(encoding="utf-8", errors="replace")[:2000]]
    if len(headed) == 1:
        return headed[0], ""
    names = ", ".join(str(f.relative_to(folder)) for f in files[:6])
    return None, (f"the folder holds several .py files ({names}); name the one to judge "
                  f"solution.py or give it a `# mhajudge: ID` header")


def find_submissions(folder) -> list[Submission]:
    """Every ``.py`` file directly in ``folder``, and every sub-folder holding one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise JudgeError(f"no such folder: {folder}", hint="give the folder that holds the submissions")
    subs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIP_DIRS:
            continue
        if entry.is_file() and entry.suffix == ".py":
            subs.append(Submission(entry.name, entry))
        elif entry.is_dir():
            file, why = _pick(entry)
            subs.append(Submission(entry.name, file, why))
    return sorted(subs, key=lambda s: s.path)


def parse_shard(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise JudgeError(f"--shard {text!r} is not K/N", hint="for example --shard 1/4 judges the first of four shards") from None
    if not 1 <= k <= n:
        raise JudgeError(f"--shard {text}: K must be between 1 and N")
    return k, n


def shard_of(subs: list[Submission], shard: tuple[int, int] | None) -> list[Submission]:
    """A deterministic 1/N of the submissions: by a hash of the path, so every
    runner of a CI matrix agrees without talking to the others."""
    if shard is None:
        return subs
    k, n = shard
    return [s for s in subs if int(hashlib.sha256(s.path.encode()).hexdigest(), 16) % n == k - 1]


def _row(sub: Submission, problem, cases, limits, isolate: bool) -> dict:
    from .judge import judge_file

    if sub.file is None:
        return {"path": sub.path, "problem": problem.id, "file": None, "verdict": "load-error",
                "passed": 0, "total": len(cases), "cases": [], "diagnoses": [], "score": 0.0,
                "notes": [sub.problem], "time_s": 0.0}
    try:
        report = judge_file(sub.file, problem=problem, cases=cases, limits=limits, hide=True, isolate=isolate)
        row = {"path": sub.path, **report.to_json()}
    except Exception as exc:  # noqa: BLE001 - one submission must never break the others
        row = {"path": sub.path, "problem": problem.id, "file": str(sub.file), "verdict": "runtime-error",
               "passed": 0, "total": len(cases), "cases": [], "diagnoses": [], "score": 0.0,
               "notes": [f"the judge failed on this submission: {type(exc).__name__}: {exc}"],
               "time_s": 0.0, "judge_error": True}
    return row


def grade(folder, problem_id: str, *, jobs: int | None = None, shard=None, limits=None,
          secret: str | None = None, progress=None, isolate: bool | None = None) -> dict:
    """Judge every submission under ``folder``; returns the contract's grade object.

    ``progress(done, total, row)`` is called as each submission finishes. Grading is
    isolated unless ``isolate=False`` is given explicitly: a :class:`JudgeError`
    where bubblewrap cannot be had (``../shared/CLI.md``).
    """
    from . import bank
    from .sandbox import isolation
    from .cases import build

    isolate = isolation.resolve(isolate, secret=True, grading=True)
    isolation.protect_judge()

    problem = bank.load_problem(problem_id)
    subs = shard_of(find_submissions(folder), shard)
    cases = build(problem, secret=secret)
    jobs = max(1, jobs or os.cpu_count() or 1)
    start = time.perf_counter()
    rows = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_row, s, problem, cases, limits, isolate) for s in subs]
        for i, fut in enumerate(futures):
            rows.append(fut.result())
            if progress:
                progress(i + 1, len(subs), rows[-1])
    result = {"problem": problem.id, "submissions": sorted(rows, key=lambda r: r["path"]),
              "time_s": round(time.perf_counter() - start, 3)}
    if shard:
        result["shard"] = f"{shard[0]}/{shard[1]}"
    return result


def merge(reports: list[dict], names: list[str] | None = None) -> dict:
    """Join the JSON reports of ``grade --shard K/N`` runs into one."""
    names = names or [f"report {i + 1}" for i in range(len(reports))]
    problems = {r.get("problem") for r in reports}
    if len(problems) != 1:
        raise JudgeError(f"the reports are for different problems: {', '.join(sorted(map(str, problems)))}",
                         hint="merge only the shards of one grade run")
    seen: dict[str, str] = {}
    rows = []
    for name, r in zip(names, reports):
        subs = r.get("submissions")
        if not isinstance(subs, list):
            raise JudgeError(f"{name} is not a grade report (no submissions list)",
                             hint="merge the output of `mhajudge grade --format json`")
        for row in subs:
            if row["path"] in seen:
                raise JudgeError(f"{row['path']} is in both {seen[row['path']]} and {name}",
                                 hint="the reports overlap: were they made with different --shard N?")
            seen[row["path"]] = name
            rows.append(row)
    return {"problem": problems.pop(), "submissions": sorted(rows, key=lambda r: r["path"]),
            "time_s": round(sum(float(r.get("time_s", 0)) for r in reports), 3)}
