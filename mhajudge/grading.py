"""Grading many submissions: find them, judge each in its own sandbox, in parallel.

    from mhajudge.grading import grade
    result = grade("submissions/", "sdpa", jobs=2)      # the contract's JSON object
    result["submissions"][0]["verdict"]

The cases are drawn once and shared by every submission (each still runs in its
own child process). Rows are sorted by path, whatever order the workers finish
in. A submission that breaks the judge itself still gets a row.

The folder is hostile (see :func:`find_submissions`): its file names, its
symlinks and its bytes are all the submitters'. Every file is vetted by
:func:`mhajudge.source.read_source` when found, so what cannot be judged gets a
load-error row without a sandbox ever starting, and what is judged is
exactly the bytes read, handed to the sandbox in memory (:func:`_row`).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import JudgeError
from .formats import number
from .untrusted import INVISIBLE
from .source import SourceError, read_source

PREFERRED = ("solution.py", "main.py", "submission.py")
SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", "node_modules", ".ipynb_checkpoints"}
MAX_SCAN = 1000   # entries looked at inside one submission folder
MAX_DEPTH = 8     # folders below a submission folder that are looked into


@dataclass
class Submission:
    path: str                  # as shown in reports: relative to the graded folder, see report_name
    file: Path | None          # the .py file to judge, or None when it cannot be judged
    problem: str = ""          # why not
    within: Path | None = None  # the folder the file must stay inside: DIR, or the submission folder
    note: str = ""             # said in its row (a symlink to another entry, say)


# Spaces that look like a space but are not one (no-break, ideographic, ...): escaped, so
# "al ice.py" and "al\u00a0ice.py" never look like one student in a table or a spreadsheet.
LOOKALIKE_SPACES = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_NEEDS_ESCAPE = re.compile(f"[\\\\\x00-\x1f\x7f-\x9f{INVISIBLE}{LOOKALIKE_SPACES}\ud800-\udfff]|^ | $")


def report_name(name: str) -> str:
    """A file name as reports keep it: printable, one line, valid UTF-8, and
    one-to-one (two different names never share a row's ``path``).

    Undecodable bytes become ``\\xNN``, control characters (newlines included),
    bidirectional overrides, spaces that only look like one, and lone surrogates ``\\n``,
    ``\\t``, ``\\r`` or ``\\uNNNN``, a space that begins or ends the name ``\\x20``, and a
    backslash ``\\\\``; every other character is kept as it is.
    """
    if not _NEEDS_ESCAPE.search(name):
        return name

    def one(m):
        ch = m.group()
        code = ord(ch)
        if ch in _SHORT:
            return _SHORT[ch]
        if ch == " ":  # at the start or the end: seen, not trimmed away
            return "\\x20"
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (os.fsdecode's surrogateescape)
            return f"\\x{code - 0xDC00:02x}"
        return f"\\u{code:04x}"
    return _NEEDS_ESCAPE.sub(one, name)


_SHORT = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _scan(folder: Path) -> tuple[list[Path], str]:
    """The ``.py`` entries under ``folder`` (files, or whatever else bears the name),
    or why they cannot be told.

    Symlinked folders are never entered (no loops, nothing outside); at most
    MAX_SCAN entries are looked at, and MAX_DEPTH folders deep.
    """
    found, seen, deeper, todo = [], 0, False, [(folder, 0)]
    while todo:
        where, depth = todo.pop()
        try:
            with os.scandir(where) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            if where == folder:
                return [], f"cannot read the folder: {exc.strerror}"
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_SCAN:
                return [], (f"the folder holds more than {MAX_SCAN:,} entries; not judged "
                            "(a submission is a few files: is a virtual environment or a data set inside?)")
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIP_DIRS:
                    continue
                if depth < MAX_DEPTH:
                    todo.append((Path(entry.path), depth + 1))
                else:
                    deeper = True
            elif entry.name.endswith((".py", ".ipynb")):
                found.append(Path(entry.path))
    # A notebook is the submission only where no .py is (a solution.py beside scratch.ipynb is judged)
    found = [f for f in found if f.suffix == ".py"] or found
    if not found:
        return [], "the folder holds no .py file (nor a notebook)" + (
            f" (folders nested more than {MAX_DEPTH} deep are not looked into)" if deeper else "")
    return sorted(found), ""


def _has_header(file: Path, folder: Path) -> bool:
    try:
        return "# mhajudge:" in read_source(file, within=folder)[:2000]
    except SourceError:
        return False


def _pick(folder: Path) -> tuple[Path | None, str]:
    files, why = _scan(folder)
    if why:
        return None, why
    if len(files) == 1:
        return files[0], ""
    for name in PREFERRED:
        for f in files:
            if f.name == name and f.parent == folder:
                return f, ""
    headed = [f for f in files if _has_header(f, folder)]
    if len(headed) == 1:
        return headed[0], ""
    names = ", ".join(report_name(str(f.relative_to(folder))) for f in files[:6])
    return None, (f"the folder holds several .py files ({names}); name the one to judge "
                  f"solution.py or give it a `# mhajudge: ID` header")


def _read(file: Path, within) -> tuple[str, int | None]:
    """A submission's text to judge, a .py file's or a notebook's code cells, and (for a
    notebook) how many IPython-only lines were left out."""
    from .notebook import NOTEBOOK_LIMIT, code_of, is_notebook

    if not is_notebook(file):
        return read_source(file, within=within), None
    try:
        return code_of(file.name, read_source(file, within=within, limit=NOTEBOOK_LIMIT))
    except JudgeError as exc:
        raise SourceError(str(exc)) from None


def _vetted(sub: Submission, shown: str = "") -> Submission:
    """The submission, or a load-error one saying why its file cannot be judged."""
    if sub.file is not None:
        try:
            _read(sub.file, sub.within)
        except SourceError as exc:
            return Submission(sub.path, None, f"{shown}: {exc}" if shown else str(exc), sub.within)
    return sub


def _entry(folder: Path, entry: os.DirEntry) -> Submission | None:
    """What one entry of the graded folder is: a submission, a row saying why it
    cannot be one, or None when it is not meant as one (a README, say)."""
    path = report_name(entry.name)
    try:
        is_link, is_dir = entry.is_symlink(), entry.is_dir(follow_symlinks=False)
    except OSError as exc:
        return Submission(path, None, f"cannot read the entry: {exc.strerror}")
    if is_dir:
        file, why = _pick(Path(entry.path))
        sub = Submission(path, file, why, Path(entry.path))
        return _vetted(sub, report_name(str(file.relative_to(entry.path))) if file else "")
    if entry.name.endswith((".py", ".ipynb")):
        note = ""
        if is_link:  # judged as the file it leads to: say which, so a copy of a classmate's file is seen
            try:
                target = Path(os.path.realpath(entry.path)).relative_to(Path(os.path.realpath(folder)))
                note = f"a symlink to {report_name(str(target))}: judged as that file"
            except ValueError:
                pass  # outside the folder: refused by _vetted
        return _vetted(Submission(path, Path(entry.path), within=folder, note=note))
    if entry.name.lower().endswith((".py", ".ipynb")):  # bob.PY: meant as one, surely; not judged as one
        return Submission(path, None, f"{path}: a submission's name ends in .py (or .ipynb), in lower case; "
                                      "rename it to be judged")
    if is_link:  # no .py name: only a link to a folder, or one that leads nowhere, may have been meant
        try:
            leads_to_dir = stat.S_ISDIR(os.stat(entry.path).st_mode)
        except OSError:  # dangling, or a loop
            return _vetted(Submission(path, Path(entry.path), within=folder))
        if leads_to_dir:
            return Submission(path, None, "a symlink to a folder: not judged "
                                          "(a submission folder must be a real folder inside the graded one)")
    return None


def find_submissions(folder) -> list[Submission]:
    """Every ``.py`` file directly in ``folder``, and every sub-folder holding one.

    The folder is hostile: every entry that is or may have been meant as a
    submission gets exactly one, and only one, row; one that cannot be judged
    (a symlink leading outside, a FIFO, a device, a file over the size limit,
    an unreadable file...) gets a load-error row saying why, here, before any
    sandbox starts. A symlink is followed only when it stays inside the
    submission: inside ``folder`` for a file directly in it, inside the
    sub-folder for a file of a sub-folder.
    """
    folder = Path(folder)
    if folder.is_file():
        raise JudgeError(f"{folder} is a file; `grade` judges a folder of submissions",
                         hint=f"to judge one file: mhajudge run {folder}")
    if not folder.is_dir():
        raise JudgeError(f"no such folder: {folder}", hint="give the folder that holds the submissions")
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise JudgeError(f"cannot read the folder {folder}: {exc.strerror}") from None
    subs = []
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIP_DIRS:
            continue
        sub = _entry(folder, entry)
        if sub is not None:
            subs.append(sub)
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


def _load_error(sub: Submission, problem, cases, why: str) -> dict:
    """The row of a submission that could not even be sent to a sandbox: shaped as a
    judged load-error's (every case a load-error, worth its weight in Gradescope)."""
    return {"path": sub.path, "problem": problem.id, "file": None, "verdict": "load-error",
            "passed": 0, "total": len(cases),
            "cases": [{"name": c.name, "group": c.group, "verdict": "load-error", "max_abs_error": None,
                       "time_s": None, "message": why, **({"weight": c.weight} if c.weight != 1 else {})}
                      for c in cases],
            "diagnoses": [], "score": 0.0, "notes": [why], "speed": None, "isolated": None, "track": None,
            "time_s": 0.0}


_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\.(py|ipynb)")


def _row(sub: Submission, problem, cases, limits, isolate: bool, exitfirst: bool = False,
         sources: dict | None = None) -> dict:
    """Judge one submission: what is judged is the bytes vetted here, handed over in
    memory, so nothing done to the folder meanwhile (a file swapped for a symlink)
    matters, no hostile file name reaches the sandbox, and no copy is left on disk.
    The text judged goes into ``sources[sub.path]`` when ``sources`` is given (for
    ``--similarity``)."""
    from .formats import plain
    from .judge import judge_file

    if sub.file is None:
        return plain(_load_error(sub, problem, cases, sub.problem))
    try:
        source, skipped = _read(sub.file, sub.within)
    except SourceError as exc:  # it changed since it was found
        return plain(_load_error(sub, problem, cases, str(exc)))
    if sources is not None:
        sources[sub.path] = source
    name = sub.file.name if _PLAIN_NAME.fullmatch(sub.file.name) else "submission.py"
    try:  # the vetted bytes go to the sandbox as they are: no copy on disk to leave behind
        report = judge_file(Path(name), problem=problem, cases=cases, limits=limits, hide=True, isolate=isolate,
                            exitfirst=exitfirst, source=source,
                            notebook_skipped=skipped)
        row = {"path": sub.path, **report.to_json()}
        said = [n for n in (sub.note, _sibling_import(report, sub)) if n]
        if said:
            row["notes"] = list(row.get("notes", [])) + said
    except Exception as exc:  # noqa: BLE001 - one submission must never break the others
        row = {"path": sub.path, "problem": problem.id, "file": None, "verdict": "runtime-error",
               "passed": 0, "total": len(cases), "cases": [], "diagnoses": [], "score": 0.0,
               "notes": [f"the judge failed on this submission: {type(exc).__name__}: {exc}"],
               "time_s": 0.0, "judge_error": True}
    row["file"] = report_name(str(sub.file))
    return plain(row)


_NO_MODULE = re.compile(r"No module named '([A-Za-z_][A-Za-z0-9_]*)'")


def _sibling_import(report, sub: Submission) -> str:
    """A note when the file failed to import a module that sits beside it in its folder:
    a submission is one file, and helpers.py next to solution.py is not sent."""
    if report.verdict != "load-error" or sub.file is None:
        return ""
    m = _NO_MODULE.search(report.load_message or "")
    if not m or not (sub.file.parent / f"{m.group(1)}.py").is_file():
        return ""
    return (f"{m.group(1)}.py is in the submission's folder, but a submission is one file: only "
            f"{report_name(sub.file.name)} is judged; put what it imports from {m.group(1)} into it")


def grade(folder, problem_id: str, *, jobs: int | None = None, shard=None, limits=None,
          secret: str | None = None, progress=None, isolate: bool | None = None,
          only: str | None = None, exitfirst: bool = False, similarity: float | None = None) -> dict:
    """Judge every submission under ``folder``; returns the contract's grade object.

    ``progress(done, total, row)`` is called as each submission finishes. Grading is
    isolated unless ``isolate=False`` is given explicitly: a :class:`JudgeError`
    where bubblewrap cannot be had (``../shared/CLI.md``).

    With ``similarity=T`` (a threshold in [0, 1]) the object also holds
    ``"similarity": [{"a": path, "b": path, "score": s}, ...]``, the pairs of
    submissions scoring at least T, highest first, and ``"similarity_threshold": T``
    (:mod:`mhajudge.similarity`; the starter file's text is ignored). With a shard,
    only the pairs within it are compared.
    """
    from . import bank
    from .sandbox import isolation
    from .cases import build

    if similarity is not None and not 0 <= similarity <= 1:
        from .similarity import THRESHOLD

        raise JudgeError(f"--similarity-threshold {similarity} must be a score between 0 and 1",
                         hint=f"the default, {THRESHOLD}, is where the measurement put it")
    isolate = isolation.resolve(isolate, secret=True, grading=True)
    isolation.protect_judge()

    problem = bank.load_problem(problem_id)
    found = find_submissions(folder)
    if not found:  # a misconfigured CI path must not pass as "every submission was judged"
        raise JudgeError(f"no submissions in {folder}: no .py file and no folder holding one",
                         hint="check the path; a submission is a .py file in DIR or a folder in DIR holding one")
    subs = shard_of(found, shard)
    from .judge import select_cases

    cases = select_cases(build(problem, secret=secret), only)
    jobs = max(1, jobs or os.cpu_count() or 1)
    start = time.perf_counter()
    rows = []
    sources: dict[str, str] | None = {} if similarity is not None else None
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = [pool.submit(_row, s, problem, cases, limits, isolate, exitfirst, sources) for s in subs]
        for i, fut in enumerate(futures):
            rows.append(fut.result())
            if progress:
                progress(i + 1, len(subs), rows[-1])
    except BaseException:  # Ctrl-C (or anything): judge no queued submission, close the running ones
        from .sandbox.runner import stop_all

        pool.shutdown(wait=False, cancel_futures=True)
        stop_all()
        raise
    pool.shutdown()
    from .cases import SECRET_VAR

    # Whether hidden cases came from a secret (never which): merge refuses to join shards
    # judged on different kinds of hidden case.
    result = {"problem": problem.id, "submissions": sorted(rows, key=lambda r: r["path"]),
              "secret": bool(secret or os.environ.get(SECRET_VAR))}
    if sources is not None:
        from . import similarity as sim
        from .starter import starter_source

        found = sim.pairs(sources, starter_source(problem), threshold=similarity)
        result["similarity"] = [{"a": a, "b": b, "score": score} for a, b, score in found]
        result["similarity_threshold"] = similarity
    result["time_s"] = round(time.perf_counter() - start, 3)
    if shard:
        result["shard"] = f"{shard[0]}/{shard[1]}"
    return result


def merge(reports: list[dict], names: list[str] | None = None, partial: bool = False) -> dict:
    """Join the JSON reports of ``grade --shard K/N`` runs into one.

    The reports are files that passed through CI artefacts and hands, so each is checked:
    one problem; shards of one N, each K once, and (unless ``partial``) every K from 1 to
    N, so a missing artefact cannot pass as the whole class; each row a grade row whose
    verdict, counts and score agree with its cases (a row edited to read ``accepted`` over
    a failing case is refused); no path twice."""
    names = names or [f"report {i + 1}" for i in range(len(reports))]
    for name, r in zip(names, reports):
        if not isinstance(r, dict) or not isinstance(r.get("submissions"), list):
            raise JudgeError(f"{name} is not a grade report (no submissions list)",
                             hint="merge the output of `mhajudge grade --format json`")
    problems = {str(r.get("problem")) for r in reports}
    if len(problems) != 1:
        raise JudgeError(f"the reports are for different problems: {', '.join(sorted(problems))}",
                         hint="merge only the shards of one grade run")
    _check_shards(reports, names, partial)
    seen: dict[str, str] = {}
    rows = []
    for name, r in zip(names, reports):
        for i, row in enumerate(r["submissions"]):
            why = _bad_row(row)
            if why:
                raise JudgeError(f"{name}: submission {i + 1} is not a row grade wrote: {why}",
                                 hint="merge the reports as grade wrote them; judge again rather than edit one")
            if row["path"] in seen:
                raise JudgeError(f"{row['path']} is in both {seen[row['path']]} and {name}",
                                 hint="the reports overlap: were they made with different --shard N?")
            seen[row["path"]] = name
            rows.append(row)
    secrets = {r.get("secret") for r in reports if "secret" in r}
    if len(secrets) > 1:
        raise JudgeError("some reports were judged with MHAJUDGE_SECRET and some without: their hidden cases "
                         "differ", hint="judge every shard with the same secret")
    merged = {"problem": problems.pop(), "submissions": sorted(rows, key=lambda r: r["path"]),
              "time_s": round(sum(number(r.get("time_s", 0)) for r in reports), 3)}
    if secrets:
        merged["secret"] = secrets.pop()
    return merged


def _check_shards(reports: list[dict], names: list[str], partial: bool) -> None:
    shards = [r.get("shard") for r in reports]
    if all(s is None for s in shards):
        return
    parsed = []
    for name, s in zip(names, shards):
        try:
            k, n = parse_shard(s) if isinstance(s, str) else (None, None)
        except JudgeError:
            k, n = None, None
        if k is None:
            raise JudgeError(f"{name} is not a shard's report ({'no shard' if s is None else repr(s)}), "
                             "and the others are", hint="merge the reports of one `grade --shard K/N` run")
        parsed.append((k, n, name))
    sizes = {n for _, n, _ in parsed}
    if len(sizes) != 1:
        raise JudgeError(f"the shards are of different runs: {', '.join(f'{k}/{n} ({m})' for k, n, m in parsed)}",
                         hint="merge the shards of one --shard K/N run, all of the same N")
    n = sizes.pop()
    taken: dict[int, str] = {}
    for k, _, name in parsed:
        if k in taken:
            raise JudgeError(f"shard {k}/{n} is given twice ({taken[k]} and {name})")
        taken[k] = name
    missing = [k for k in range(1, n + 1) if k not in taken]
    if missing and not partial:
        raise JudgeError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{k}/{n}' for k in missing)} "
                         f"{'are' if len(missing) > 1 else 'is'} missing: the merged report would leave out "
                         "those submissions", hint="give every shard's report, or --partial to merge what is here")


def _bad_row(row) -> str:
    """Why ``row`` is not a submission's row as grade writes one (its fields, and its
    verdict, counts and score against its cases); empty when it is one."""
    from .results import VERDICTS

    if not isinstance(row, dict):
        return "not an object"
    if not isinstance(row.get("path"), str) or not row["path"]:
        return "its path is not text"
    if row.get("verdict") not in VERDICTS:
        return f"its verdict {str(row.get('verdict'))[:40]!r} is none of grade's"
    counts = [row.get(k) for k in ("passed", "total")]
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts) or counts[0] > counts[1]:
        return "its passed and total are not counts of its cases"
    score = row.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        return "its score is not a number from 0 to 1"
    cases = row.get("cases", [])
    if not isinstance(cases, list) or not all(isinstance(c, dict) and c.get("verdict") in VERDICTS for c in cases):
        return "its cases are not a list of judged cases"
    for key in ("time_s",):
        if key in row and row[key] is not None and (isinstance(row[key], bool) or not isinstance(row[key], (int, float))):
            return f"its {key} is not a number"
    passed, total = counts
    not_run = row.get("not_run", [])
    if not isinstance(not_run, list) or not all(isinstance(c, dict) for c in not_run):
        return "its not_run is not a list of cases"
    right = sum(c["verdict"] == "accepted" for c in cases)
    if cases and len(cases) + len(not_run) == total:
        if right != passed:
            return f"it says {passed} of {total} passed, and its cases say {right}"
        weights = [number(c.get("weight", 1.0)) for c in cases + not_run]
        whole = sum(weights)
        expect = sum(w for c, w in zip(cases, weights) if c["verdict"] == "accepted") / whole if whole else 0.0
        if abs(score - expect) > 1e-6:
            return f"its score {score:g} is not what its cases give ({expect:g})"
    if row["verdict"] == "accepted" and (passed != total or total == 0 or not_run
                                         or any(c["verdict"] != "accepted" for c in cases)):
        return "it says accepted, and not every case was"
    return ""
