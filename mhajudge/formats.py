"""Machine formats for reports: JUnit XML, Gradescope results.json, CSV.

Every format is made from the JSON objects of ``../shared/CLI.md`` (a run
object, or a grade object ``{"problem", "submissions": [...]}``), so that
``mhajudge merge`` can render merged shard reports in any format too.

Reports carry text the candidate controls (exception messages) and names the
submissions folder controls: :func:`plain` makes a report strict JSON data
(no escapes or control characters, no NaN or infinity), and each format then
writes it in its own safe way (XML 1.0 characters only, quoted CSV fields).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import xml.etree.ElementTree as ET

from .untrusted import TEXT_LIMIT, clean

PLAIN_LIMIT = 4 * TEXT_LIMIT  # characters of one string kept in a report (a row's path is far shorter)


def plain(obj):
    """A report (or any JSON-like tree) that ``json.dumps(..., allow_nan=False)``
    takes and any strict reader accepts: strings through :func:`untrusted.clean`
    (no terminal escapes, no control characters but tab and newline, no lone
    surrogates, capped), NaN and infinities as null."""
    if isinstance(obj, str):
        return clean(obj, limit=PLAIN_LIMIT)
    if isinstance(obj, bool) or obj is None or isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return plain(str(obj))


def number(value, default: float = 0.0) -> float:
    """A number from a report for showing; null, NaN or junk shows as ``default``."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


# What XML 1.0 cannot hold even as a character reference.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(value) -> str:
    return _NOT_XML.sub("", clean(value, limit=PLAIN_LIMIT))


def _case_weights(run: dict) -> list[float]:
    """Each case's share of the score (weights are in the report as `weight`, default 1)."""
    weights = [float(c.get("weight", 1.0)) for c in run.get("cases", [])]
    total = sum(weights)
    return [w / total for w in weights] if total else []


def _failure_message(case: dict, diagnoses: str) -> str:
    """A failing case in one line: the verdict, the error size, the diagnoses.
    A hidden case's message (which could carry its inputs) is never in it."""
    message = case["verdict"] + _error_size(case)
    if diagnoses and case["verdict"] == "wrong-answer":
        message += f"; diagnosis: {diagnoses}"
    return message


def junit(runs: list[dict], problem: str) -> str:
    """One <testsuite> per submission, one <testcase> per case.

    Class names are the problem id (no dots: CI reporters split a class name at its
    dots into package and class); the submission is the suite's name, a property of
    the suite and each case's ``file``. The failure message has the error size and
    the diagnoses; its text the case's message, except for hidden cases.
    """
    problem = _xml(problem)
    classname = problem.replace(".", "-")
    root = ET.Element("testsuites", name=f"mhajudge {problem}")
    totals = {"tests": 0, "failures": 0, "errors": 0}  # the schema's <testsuites> has no skipped
    total_time = 0.0
    for run in runs:
        name = _xml(run.get("path") or run.get("file") or "submission")
        cases = run.get("cases", [])
        unrun = [c for c in run.get("not_run", []) if isinstance(c, dict)]  # -x stopped before them
        failures = sum(c["verdict"] == "wrong-answer" for c in cases)
        errors = sum(c["verdict"] not in ("accepted", "wrong-answer") for c in cases)
        if not cases:  # nothing ran: the whole submission is one error
            errors = 1
        time_s = number(run.get("time_s"))
        diagnoses = _xml(", ".join(str(d.get("id", "")) for d in run.get("diagnoses", [])))
        tests = max(len(cases), 1) + len(unrun)
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(tests), failures=str(failures),
                              errors=str(errors), skipped=str(len(unrun)), time=f"{time_s:.3f}")
        props = ET.SubElement(suite, "properties")
        for key, value in (("problem", problem), ("submission", name), ("verdict", run.get("verdict", "")),
                           ("passed", run.get("passed", "")), ("total", run.get("total", "")),
                           ("score", run.get("score", "")), ("diagnoses", diagnoses)):
            ET.SubElement(props, "property", name=key, value=_xml(value))
        if not cases:
            verdict = _xml(run.get("verdict", "load-error"))
            tc = ET.SubElement(suite, "testcase", classname=classname, name="load", time="0", file=name)
            notes = "; ".join(map(str, run.get("notes", [])))
            ET.SubElement(tc, "error", message=_xml(f"{verdict}: {notes}"), type=verdict).text = _xml(notes)
        for c in cases:
            verdict = _xml(c["verdict"])
            tc = ET.SubElement(suite, "testcase", classname=classname, name=_xml(f"[{c['group']}] {c['name']}"),
                               time=f"{number(c.get('time_s')):.6f}", file=name)
            if c["verdict"] == "accepted":
                continue
            text = "" if c.get("group") == "hidden" else _xml(c.get("message", ""))
            ET.SubElement(tc, "failure" if c["verdict"] == "wrong-answer" else "error",
                          message=_xml(_failure_message(c, diagnoses)), type=verdict).text = text
        for c in unrun:
            tc = ET.SubElement(suite, "testcase", classname=classname,
                               name=_xml(f"[{c.get('group', '')}] {c.get('name', '')}"), time="0", file=name)
            ET.SubElement(tc, "skipped", message="not run: -x stopped at the first failure")
        totals["tests"] += tests
        totals["failures"] += failures
        totals["errors"] += errors
        total_time += time_s
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's words
HIDDEN_VISIBILITY = "after_published"  # hidden cases, unless --visibility says otherwise


def _error_size(case: dict) -> str:
    err = case.get("max_abs_error")
    return f" (largest error {number(err):.3g})" if err is not None else ""


def _shares(points: float, weights: list[float]) -> list[float]:
    """``points`` split over the tests by weight, each to four decimals, summing to
    ``points`` to four decimals exactly (the largest remainders get the last units)."""
    total = sum(weights)
    if not total:
        return [0.0] * len(weights)
    units = round(points * 10_000)
    exact = [units * w / total for w in weights]
    given = [int(e) for e in exact]
    for i in sorted(range(len(exact)), key=lambda i: given[i] - exact[i])[:units - sum(given)]:
        given[i] += 1
    return [g / 10_000 for g in given]


def gradescope(run: dict, max_score: float | None = None, visibility: str = HIDDEN_VISIBILITY) -> dict:
    """The results.json an LMS autograder reads, for one submission.

    Each case is a test worth its weight (spec groups may weigh cases with
    ``weight:``), so ``max_score`` is the sum of the weights unless ``max_score``
    rescales it. Sample cases are ``visible``; hidden ones get ``visibility`` and
    show only their verdict and error size, never a message, whatever the run showed.
    """
    run = plain(run)
    # The cases -x left unrun are tests too (failed, never run): the total is the same with or without -x.
    cases = run.get("cases", []) + [dict(c, verdict="not run", message="-x stopped at the first failure")
                                    for c in run.get("not_run", []) if isinstance(c, dict)]
    weights = [number(c.get("weight", 1.0), 1.0) for c in cases]
    total = sum(weights)
    points = total if max_score is None else float(max_score)
    tests = []
    for c, worth in zip(cases, _shares(points, weights)):
        ok = c["verdict"] == "accepted"
        hidden = c.get("group") == "hidden"
        detail = _error_size(c) if hidden else (f": {c['message']}" if c.get("message") else "")
        tests.append({
            "name": f"[{c['group']}] {c['name']}",
            "score": round(worth if ok else 0.0, 4),
            "max_score": round(worth, 4),
            "status": "passed" if ok else "failed",
            "output": c["verdict"] + detail,
            "visibility": visibility if hidden else "visible",
        })
    lines = [f"{run.get('problem')}: {run.get('verdict')} ({run.get('passed', 0)}/{run.get('total', 0)} cases)"]
    lines += [f"diagnosis {d['id']}: {d['message']}" for d in run.get("diagnoses", [])]
    lines += list(run.get("notes", []))
    return {
        # what the tests add up to, to the last digit (18 tests of 50/18 points each summed
        # to 50.0004, and their scores differed from the total's by 3e-4)
        "score": round(sum(t["score"] for t in tests), 4) if tests else round(points * number(run.get("score")), 4),
        "max_score": round(points, 4),
        "output": "\n".join(lines),
        "execution_time": round(number(run.get("time_s")), 3),
        "tests": tests,
    }


def gradescope_many(grade: dict, max_score: float | None = None, visibility: str = HIDDEN_VISIBILITY) -> dict:
    """For `grade` to stdout or one file: each submission's results.json, keyed by its path."""
    return {"problem": grade["problem"],
            "submissions": {r["path"]: gradescope(r, max_score, visibility) for r in grade["submissions"]}}


FOLDER_BYTES = 200  # of a results folder's name: file systems allow 255, and escaping (\xff) quadruples a byte


def results_folder_name(path: str) -> str:
    """The folder of one submission under ``grade --format gradescope -o DIR``: its
    report path (already escaped, one line) with no way out of DIR. A name too long for
    a file system (254 undecodable bytes escape to 1,016 characters) is cut and given
    a hash of the whole path, so it stays one of a kind."""
    import hashlib

    name = str(path).replace("/", "_").replace(os.sep, "_")
    name = "_" + name if name in ("", ".", "..") or name.startswith(".") else name
    if len(name.encode("utf-8", "surrogateescape")) > FOLDER_BYTES:
        digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        head = name.encode("utf-8", "surrogateescape")[:FOLDER_BYTES - 17].decode("utf-8", "ignore")
        name = f"{head}~{digest}"
    return name


CSV_FIELDS = ["path", "verdict", "passed", "total", "score", "time_s", "diagnoses", "reason", "notes"]


def _cell(value, fold: bool = True) -> str:
    """A CSV text field: one line, no control characters, and never read as a
    formula by a spreadsheet (a leading = + - @ gets a quote, as OWASP advises).
    ``fold=False`` keeps its spaces as they are (a path: " alice.py" is not "alice.py")."""
    text = clean(value, limit=PLAIN_LIMIT)
    text = " ".join(text.split()) if fold else text.replace("\n", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _count(value) -> int | str:
    """A number column of a CSV row: an integer, or empty (a hand-edited report's text is no count)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else ""


def _number_cell(value) -> float | str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return number(value)


def _reason(row: dict) -> str:
    """Why a submission is ``forbidden`` or a ``load-error`` (its note, else its first
    message), or why it crashed or ran out of time or memory (its first such case's
    message: a reader of the CSV must tell a crash from a wrong answer)."""
    verdict = row.get("verdict")
    if verdict in ("forbidden", "load-error"):
        if row.get("notes"):
            return " | ".join(map(str, row["notes"]))
        return next((str(c.get("message", "")) for c in row.get("cases", []) if c.get("message")), "")
    if verdict in ("runtime-error", "time-limit", "memory-limit"):
        return next((f"{c.get('name', '')}: {c.get('message', '')}" for c in row.get("cases", [])
                     if c.get("verdict") == verdict and c.get("message")), "")
    return ""


def csv_text(grade: dict) -> str:
    """One row per submission, for spreadsheets (every field quoted where needed)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in grade["submissions"]:
        time_s = r.get("time_s", "")
        writer.writerow({"path": _cell(r["path"], fold=False), "verdict": _cell(r["verdict"]),
                         "passed": _count(r.get("passed")), "total": _count(r.get("total")),
                         "score": _number_cell(r.get("score")),
                         "time_s": _number_cell(time_s),
                         "diagnoses": _cell(" ".join(d["id"] for d in r.get("diagnoses", []))),
                         "reason": _cell(_reason(r)),
                         "notes": _cell(" | ".join(map(str, r.get("notes", []))))})
    return buf.getvalue()


WHY_WIDTH = 120  # characters of a note or a message in the summary table (JSON keeps it all)


def _why(row: dict) -> str:
    """The diagnoses, else what stopped the submission from loading."""
    if row.get("diagnoses"):
        return ", ".join(d["id"] for d in row["diagnoses"])
    text = ""
    if row.get("notes"):
        text = "; ".join(map(str, row["notes"]))
    elif row["verdict"] in ("load-error", "forbidden") and row.get("cases"):
        text = str(row["cases"][0].get("message", ""))
    else:
        text = _reason(row)  # a crash, a time or memory limit: its first such case
    return text if len(text) <= WHY_WIDTH else text[:WHY_WIDTH - 3] + "..."


def render_grade(grade: dict, console) -> None:
    """The summary table for people. Every cell is plain text (rich.text.Text), never
    markup: a name like ``[red]x[/red].py`` is shown as it is."""
    from rich.table import Table
    from rich.text import Text

    from .render import STYLE
    from .untrusted import shown_name

    grade = plain(grade)
    subs = grade["submissions"]
    table = Table(title=Text(f"{grade['problem']}: {len(subs)} submission{'' if len(subs) == 1 else 's'}"), title_justify="left")
    for col, justify in (("submission", "left"), ("verdict", "left"), ("passed", "right"),
                         ("score", "right"), ("time", "right"), ("diagnoses", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    for r in subs:
        table.add_row(Text(shown_name(str(r["path"]))), Text(str(r["verdict"]), STYLE.get(r["verdict"], "")),
                      Text(f"{r['passed']}/{r['total']}"), Text(f"{100 * number(r.get('score')):.0f}%"),
                      Text(f"{number(r.get('time_s')):.2f} s"), Text(_why(r)))
    console.print(table)
    accepted = sum(r["verdict"] == "accepted" for r in subs)
    took = f" in {number(grade['time_s']):.1f} s" if grade.get("time_s") is not None else ""
    console.print(Text(f"{accepted}/{len(subs)} accepted{took}"))
    if isinstance(grade.get("similarity"), list):
        _render_similarity(grade, console)


def _render_similarity(grade: dict, console) -> None:
    """The near-duplicate pairs of ``grade --similarity``, after the grade table."""
    from rich.table import Table
    from rich.text import Text

    from .untrusted import shown_name

    pairs = grade["similarity"]
    at_least = f"score >= {number(grade.get('similarity_threshold')):.2f}"
    if not pairs:
        console.print(Text(f"no near-duplicate submissions ({at_least})"))
        return
    table = Table(title=Text(f"{len(pairs)} near-duplicate pair{'s' * (len(pairs) != 1)} ({at_least}, "
                             "the starter file ignored)"), title_justify="left")
    for col, justify in (("submission", "left"), ("submission", "left"), ("similarity", "right")):
        table.add_column(col, justify=justify, overflow="fold")
    for p in pairs:
        table.add_row(Text(shown_name(str(p.get("a")))), Text(shown_name(str(p.get("b")))),
                      Text(f"{100 * number(p.get('score')):.0f}%"))
    console.print(table)
