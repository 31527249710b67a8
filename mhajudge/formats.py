"""Machine formats for reports: JUnit XML, Gradescope results.json, CSV.

Every format is made from the JSON objects of ``../shared/CLI.md`` (a run
object, or a grade object ``{"problem", "submissions": [...]}``), so that
``mhajudge merge`` can render merged shard reports in any format too.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

POINTS = 100.0  # a submission's maximum score in Gradescope's layout


def _case_weights(run: dict) -> list[float]:
    """Each case's share of the score (weights are in the report as `weight`, default 1)."""
    weights = [float(c.get("weight", 1.0)) for c in run.get("cases", [])]
    total = sum(weights)
    return [w / total for w in weights] if total else []


def junit(runs: list[dict], problem: str) -> str:
    """One <testsuite> per submission, one <testcase> per case."""
    root = ET.Element("testsuites", name=f"mhajudge {problem}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    total_time = 0.0
    for run in runs:
        name = run.get("path") or run.get("file") or "submission"
        cases = run.get("cases", [])
        failures = sum(c["verdict"] == "wrong-answer" for c in cases)
        errors = sum(c["verdict"] not in ("accepted", "wrong-answer") for c in cases)
        if not cases:  # nothing ran: the whole submission is one error
            errors = 1
        time_s = float(run.get("time_s") or 0.0)
        suite = ET.SubElement(root, "testsuite", name=str(name), tests=str(max(len(cases), 1)),
                              failures=str(failures), errors=str(errors), skipped="0", time=f"{time_s:.3f}")
        props = ET.SubElement(suite, "properties")
        for key in ("problem", "verdict", "passed", "total", "score"):
            ET.SubElement(props, "property", name=key, value=str(run.get(key, "")))
        if not cases:
            tc = ET.SubElement(suite, "testcase", classname=f"{problem}.{name}", name="load", time="0")
            ET.SubElement(tc, "error", message=run.get("verdict", "load-error"), type=run.get("verdict", "load-error")
                          ).text = "; ".join(run.get("notes", []))
        for c in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"{problem}.{name}", name=f"[{c['group']}] {c['name']}",
                               time=f"{float(c.get('time_s') or 0):.6f}")
            if c["verdict"] == "wrong-answer":
                ET.SubElement(tc, "failure", message="wrong-answer", type="wrong-answer").text = c.get("message", "")
            elif c["verdict"] != "accepted":
                ET.SubElement(tc, "error", message=c["verdict"], type=c["verdict"]).text = c.get("message", "")
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
        "score": round(points * float(run.get("score", 0.0)), 4),
        "max_score": points,
        "output": "\n".join(lines),
        "execution_time": round(float(run.get("time_s") or 0.0), 3),
        "tests": tests,
    }


def gradescope_many(grade: dict, points: float = POINTS) -> dict:
    """For `grade`: each submission's results.json, keyed by its path."""
    return {"problem": grade["problem"],
            "submissions": {r["path"]: gradescope(r, points) for r in grade["submissions"]}}


CSV_FIELDS = ["path", "verdict", "passed", "total", "score", "time_s", "diagnoses", "notes"]


def csv_text(grade: dict) -> str:
    """One row per submission, for spreadsheets."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in grade["submissions"]:
        writer.writerow({"path": r["path"], "verdict": r["verdict"], "passed": r["passed"], "total": r["total"],
                         "score": r.get("score", 0.0), "time_s": r.get("time_s", ""),
                         "diagnoses": " ".join(d["id"] for d in r.get("diagnoses", [])),
                         "notes": " | ".join(r.get("notes", []))})
    return buf.getvalue()


def _why(row: dict) -> str:
    """The diagnoses, else what stopped the submission from loading."""
    if row.get("diagnoses"):
        return ", ".join(d["id"] for d in row["diagnoses"])
    if row.get("notes"):
        return "; ".join(row["notes"])[:80]
    if row["verdict"] in ("load-error", "forbidden") and row.get("cases"):
        return row["cases"][0].get("message", "")[:80]
    return ""


def render_grade(grade: dict, console) -> None:
    """The summary table for people."""
    from rich.table import Table
    from rich.text import Text

    from .render import STYLE

    subs = grade["submissions"]
    table = Table(title=f"{grade['problem']}: {len(subs)} submissions", title_justify="left")
    for col, justify in (("submission", "left"), ("verdict", "left"), ("passed", "right"),
                         ("score", "right"), ("time", "right"), ("diagnoses", "left")):
        table.add_column(col, justify=justify, overflow="fold")
    for r in subs:
        table.add_row(r["path"], Text(r["verdict"], STYLE.get(r["verdict"], "")), f"{r['passed']}/{r['total']}",
                      f"{100 * float(r.get('score', 0)):.0f}%", f"{float(r.get('time_s') or 0):.2f} s",
                      _why(r))
    console.print(table)
    accepted = sum(r["verdict"] == "accepted" for r in subs)
    console.print(f"{accepted}/{len(subs)} accepted" + (f" in {grade['time_s']:.1f} s" if "time_s" in grade else ""))
