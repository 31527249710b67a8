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
import re
import xml.etree.ElementTree as ET

from .untrusted import TEXT_LIMIT, clean

POINTS = 100.0  # a submission's maximum score in Gradescope's layout
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


def _number(value, default: float = 0.0) -> float:
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


def junit(runs: list[dict], problem: str) -> str:
    """One <testsuite> per submission, one <testcase> per case."""
    problem = _xml(problem)
    root = ET.Element("testsuites", name=f"mhajudge {problem}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0
    for run in runs:
        name = _xml(run.get("path") or run.get("file") or "submission")
        cases = run.get("cases", [])
        failures = sum(c["verdict"] == "wrong-answer" for c in cases)
        errors = sum(c["verdict"] not in ("accepted", "wrong-answer") for c in cases)
        if not cases:  # nothing ran: the whole submission is one error
            errors = 1
        time_s = _number(run.get("time_s"))
        suite = ET.SubElement(root, "testsuite", name=name, tests=str(max(len(cases), 1)),
                              failures=str(failures), errors=str(errors), skipped="0", time=f"{time_s:.3f}")
        props = ET.SubElement(suite, "properties")
        for key in ("problem", "verdict", "passed", "total", "score"):
            ET.SubElement(props, "property", name=key, value=_xml(run.get(key, "")))
        if not cases:
            verdict = _xml(run.get("verdict", "load-error"))
            tc = ET.SubElement(suite, "testcase", classname=f"{problem}.{name}", name="load", time="0")
            notes = "; ".join(map(str, run.get("notes", [])))
            ET.SubElement(tc, "error", message=verdict, type=verdict).text = _xml(notes)
        for c in cases:
            verdict = _xml(c["verdict"])
            tc = ET.SubElement(suite, "testcase", classname=f"{problem}.{name}",
                               name=_xml(f"[{c['group']}] {c['name']}"), time=f"{_number(c.get('time_s')):.6f}")
            if c["verdict"] == "wrong-answer":
                ET.SubElement(tc, "failure", message="wrong-answer", type="wrong-answer"
                              ).text = _xml(c.get("message", ""))
            elif c["verdict"] != "accepted":
                ET.SubElement(tc, "error", message=verdict, type=verdict).text = _xml(c.get("message", ""))
        totals["tests"] += max(len(cases), 1)
        totals["failures"] += failures
        totals["errors"] += errors
        total_time += time_s
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def gradescope(run: dict, points: float = POINTS) -> dict:
    """The results.json an LMS autograder reads, for one submission."""
    run = plain(run)
    cases = run.get("cases", [])
    shares = _case_weights(run)
    tests = []
    for c, share in zip(cases, shares):
        ok = c["verdict"] == "accepted"
        tests.append({
            "name": f"[{c['group']}] {c['name']}",
            "score": round(points * share if ok else 0.0, 4),
            "max_score": round(points * share, 4),
            "status": "passed" if ok else "failed",
            "output": c["verdict"] + (f": {c['message']}" if c.get("message") else ""),
            "visibility": "visible",
        })
    lines = [f"{run.get('problem')}: {run.get('verdict')} ({run.get('passed', 0)}/{run.get('total', 0)} cases)"]
    lines += [f"diagnosis {d['id']}: {d['message']}" for d in run.get("diagnoses", [])]
    lines += list(run.get("notes", []))
    return {
        "score": round(points * _number(run.get("score")), 4),
        "max_score": points,
        "output": "\n".join(lines),
        "execution_time": round(_number(run.get("time_s")), 3),
        "tests": tests,
    }


def gradescope_many(grade: dict, points: float = POINTS) -> dict:
    """For `grade`: each submission's results.json, keyed by its path."""
    return {"problem": grade["problem"],
            "submissions": {r["path"]: gradescope(r, points) for r in grade["submissions"]}}


CSV_FIELDS = ["path", "verdict", "passed", "total", "score", "time_s", "diagnoses", "notes"]


def _cell(value) -> str:
    """A CSV text field: one line, no control characters, and never read as a
    formula by a spreadsheet (a leading = + - @ gets a quote, as OWASP advises)."""
    text = " ".join(clean(value, limit=PLAIN_LIMIT).split())
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_text(grade: dict) -> str:
    """One row per submission, for spreadsheets (every field quoted where needed)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in grade["submissions"]:
        time_s = r.get("time_s", "")
        writer.writerow({"path": _cell(r["path"]), "verdict": _cell(r["verdict"]), "passed": r["passed"],
                         "total": r["total"], "score": _number(r.get("score")),
                         "time_s": "" if time_s in ("", None) else _number(time_s),
                         "diagnoses": _cell(" ".join(d["id"] for d in r.get("diagnoses", []))),
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
    table = Table(title=Text(f"{grade['problem']}: {len(subs)} submissions"), title_justify="left")
    for col, justify in (("submission", "left"), ("verdict", "left"), ("passed", "right"),
                         ("score", "right"), ("time", "right"), ("diagnoses", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    for r in subs:
        table.add_row(Text(shown_name(str(r["path"]))), Text(str(r["verdict"]), STYLE.get(r["verdict"], "")),
                      Text(f"{r['passed']}/{r['total']}"), Text(f"{100 * _number(r.get('score')):.0f}%"),
                      Text(f"{_number(r.get('time_s')):.2f} s"), Text(_why(r)))
    console.print(table)
    accepted = sum(r["verdict"] == "accepted" for r in subs)
    took = f" in {_number(grade['time_s']):.1f} s" if grade.get("time_s") is not None else ""
    console.print(Text(f"{accepted}/{len(subs)} accepted{took}"))
    if isinstance(grade.get("similarity"), list):
        _render_similarity(grade, console)


def _render_similarity(grade: dict, console) -> None:
    """The near-duplicate pairs of ``grade --similarity``, after the grade table."""
    from rich.table import Table
    from rich.text import Text

    from .untrusted import shown_name

    pairs = grade["similarity"]
    at_least = f"score >= {_number(grade.get('similarity_threshold')):.2f}"
    if not pairs:
        console.print(Text(f"no near-duplicate submissions ({at_least})"))
        return
    table = Table(title=Text(f"{len(pairs)} near-duplicate pair{'s' * (len(pairs) != 1)} ({at_least}, "
                             "the starter file ignored)"), title_justify="left")
    for col, justify in (("submission", "left"), ("submission", "left"), ("similarity", "right")):
        table.add_column(col, justify=justify, overflow="fold")
    for p in pairs:
        table.add_row(Text(shown_name(str(p.get("a")))), Text(shown_name(str(p.get("b")))),
                      Text(f"{100 * _number(p.get('score')):.0f}%"))
    console.print(table)
