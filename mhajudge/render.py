"""Showing a report to a person: a rich table, a verdict line, the diagnoses.

What the candidate controls (messages, printed output, the file's name) is shown
as plain text: through :func:`untrusted.clean` (no terminal escapes or control
characters) and as ``rich.text.Text``, never as markup.
"""

from __future__ import annotations

from .results import COLOURS, Report
from .untrusted import clean, shown_name

STYLE = {verdict: f"bold {colour}" for verdict, colour in COLOURS.items()}  # verdicts stand out in reports
SMALL = 64  # show inputs of a failing case when it has at most this many numbers


def _fmt_err(err) -> str:
    return "-" if err is None else f"{err:.2e}"


def _fmt_time(t) -> str:
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def indented(text: str) -> str:
    """Candidate-controlled text on lines of its own: every line after the first indented,
    so none can pass for one of the judge's (a message holding '\nACCEPTED  18/18')."""
    return text.replace("\n", "\n    ")


def _short(message: str, full: bool = False) -> str:
    """The table shows the first point of a message; JSON keeps all of it."""
    if full or len(message) <= 100:
        return message
    first = message.split("; ")[0]
    return first if len(first) <= 100 else first[:97] + "..."


def _collapsed(cases) -> list:
    """(case, how many cases right after it failed the same way): identical failures
    (same verdict and message, say a missing function) take one row."""
    rows: list = []
    for c in cases:
        if rows and c.verdict != "accepted" and c.message and (rows[-1][0].verdict, rows[-1][0].message) == (
                c.verdict, c.message):
            rows[-1][1] += 1
        else:
            rows.append([c, 0])
    return rows


def render_report(report: Report, console, hide: bool = False) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(f"{report.problem}: {shown_name(str(report.file))}"), title_justify="left", expand=False)
    table.add_column("case")
    table.add_column("group", style="dim")
    table.add_column("verdict")
    table.add_column("max error", justify="right")
    table.add_column("time", justify="right")
    table.add_column("what went wrong", overflow="fold", max_width=70)
    load_failed = bool(report.load_message)
    for c, alike in _collapsed(report.cases[:1] if load_failed else report.cases):
        name = "(all cases)" if load_failed else c.name + (f"  (+{alike} more like it)" if alike else "")
        table.add_row(Text(name), Text(c.group),
                      Text(c.verdict, STYLE.get(c.verdict, "")), _fmt_err(c.max_abs_error), _fmt_time(c.time_s),
                      Text(_short(clean(c.message), load_failed or c.verdict == "load-error")))  # a signature whole
    console.print(table)
    verdict = report.verdict
    line = Text()
    line.append(verdict.upper(), STYLE.get(verdict, ""))
    line.append(f"  {report.passed}/{report.total} cases passed  ({report.wall_s:.2f} s)")
    if report.not_run:
        line.append(f"  {len(report.not_run)} not run (-x: stopped at the first failure)", "dim")
    if report.speed and report.speed.get("ratio") is not None:
        ratio = report.speed["ratio"]
        line.append(f"  your code: {_fmt_time(report.speed['time_s'])}, {ratio:.1f}x the reference's time"
                    + (" (faster)" if ratio < 0.8 else " (slower)" if ratio > 1.25 else ""), "dim")
    console.print(line)
    # Sample cases are shown in full; hidden ones only when not --hide.
    shown = [c for c in report.cases if c.group == "sample" or not hide]
    crashed = next((c for c in shown if c.verdict == "runtime-error" and c.message), None)
    if crashed is not None and not load_failed and _short(clean(crashed.message)) != clean(crashed.message):
        # the table cut it: where it raised is at the end (line N: the code)
        console.print(Text("error ", "bold red") + Text(f"(case {clean(crashed.name, 120)}): ", "dim")
                      + Text(indented(clean(crashed.message, 1000))))
    _show_details(shown, console)
    small = _show_small_failure(shown, console)
    _show_heatmaps(([small] if small else []) + shown, console)
    for d in report.diagnoses:
        body = Text()
        body.append(d["title"] + "\n", "bold")
        body.append(d["why"] + "\n")
        body.append("Fix: ", "bold")
        body.append(d["fix"])
        if "explains" in d:  # a compound diagnosis: which failing cases this one accounts for
            body.append("\n" + d["message"][d["message"].rfind("(explains"):], "italic")
        console.print(Panel(body, title=f"diagnosis: {d['id']}", title_align="left", border_style="yellow"))
    if report.divergence:
        console.print(Text("where it first goes wrong ", "bold yellow")
                      + Text(f"(case {clean(report.divergence['case'], 120)}): ", "dim")
                      + Text(clean(report.divergence["message"], 400)))
    for note in report.notes:
        console.print(Text("note: ", "bold cyan") + Text(clean(note)))
    if (report.stdout.strip() or report.stderr.strip()) and not hide:
        console.print(Panel(Text(printed(report.stdout, report.stderr)), title="your program printed",
                            title_align="left", border_style="dim"))


PRINTED_LINES = 8  # of each stream: its first and its last lines are shown


def printed(stdout: str, stderr: str, lines: int = PRINTED_LINES) -> str:
    """What the candidate printed, each stream labelled: its first and last ``lines`` lines
    (a traceback comes last), with how many lines between were left out."""
    parts = []
    for name, text in (("stdout", stdout), ("stderr", stderr)):
        rows = [clean(r, limit=200) for r in text.strip("\n").splitlines()]
        if not "".join(rows).strip():
            continue
        count = f"{len(rows):,} line{'s' if len(rows) != 1 else ''}"
        if len(rows) > 2 * lines + 1:
            rows = rows[:lines] + [f"[... {len(rows) - 2 * lines:,} lines not shown ...]"] + rows[-lines:]
        parts.append(f"{name} ({count}, in the file's import and every case):\n" + "\n".join(rows))
    return "\n\n".join(parts)


def _show_details(cases, console) -> None:
    """What custom checks explain at length (a distribution, a memory profile)."""
    from rich.text import Text

    for c in cases:
        if c.verdict != "accepted" and c.details:
            console.print(Text("\n" + c.name, "bold"))
            console.print(Text(clean(c.details, limit=20_000)))


SHOWN_SAMPLES = 2  # failing sample cases shown in full (inputs, expected, got)


def _value_text(v, indent: str) -> str:
    """An input as text: arrays (summarised past a few dozen numbers), tuples of them, numbers."""
    import numpy as np

    if isinstance(v, np.ndarray):
        return np.array2string(v, prefix=indent)
    if isinstance(v, (tuple, list)) and v and all(isinstance(x, np.ndarray) for x in v):
        return "(" + (",\n" + indent).join(np.array2string(x, prefix=indent) for x in v) + ")"
    if isinstance(v, dict) and set(v) == {"$prev"}:  # fed back from the step before
        return "(what the previous step returned)"
    return clean(repr(v), limit=300)


def _inputs_lines(case) -> list[str]:
    """``name = value`` for each input; for a program of steps, each step's inputs that change."""
    if case.program.get("kind") != "steps" or not case.inputs.get("steps"):
        return [f"  {k} = " + _value_text(v, " " * (len(k) + 5)) for k, v in case.args.items()]
    names = list(case.args)
    lines, before = [], None
    for i, step in enumerate(case.inputs["steps"]):
        args = step.get("args", [])
        for j, v in enumerate(args):
            name = names[j] if j < len(names) else f"arg{j}"
            same = before is not None and j < len(before) and _same(before[j], v)
            if not same:
                lines.append(f"  step {i}: {name} = " + _value_text(v, " " * (len(name) + 13)))
        before = args
    return lines


def _same(a, b) -> bool:
    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def _show_small_failure(cases, console):
    """For the failing sample cases (else the first small failing case): the inputs,
    the expected and the got answers, whatever the kind of program.

    Attention weights small enough for a heatmap are left to the heatmap, which
    shows the first such case. Where many parts of an answer are compared (each
    step of a KV cache), only those that differ are printed. Returns the first case
    shown, if any.
    """
    import numpy as np
    from rich.text import Text

    from .check import check_answer

    failing = [c for c in cases if c.verdict == "wrong-answer" and c.case is not None
               and (c.answer is not None or c.case.expect != "value")]
    samples = [c for c in failing if c.group == "sample"]
    if not samples:  # hidden cases are shown only when small
        samples = [c for c in failing if c.answer is not None and c.case.program.get("kind") == "call" and
                   sum(v.size for v in c.case.args.values() if isinstance(v, np.ndarray)) <= SMALL][:1]
    first = None
    for c in samples[:SHOWN_SAMPLES]:
        case = c.case
        with np.printoptions(precision=4, suppress=True, linewidth=100, threshold=60, edgeitems=3):
            console.print(Text.assemble(("\nFailing sample case:" if c.group == "sample" else "\nFirst small failing case:",
                                         "bold"), " ", c.name))
            for line in _inputs_lines(case):
                console.print(Text(line))
            if case.expect != "value":  # these inputs are invalid: the answer is an exception
                console.print(Text(f"  expected: raises {case.expect}"))
                console.print(Text("  got: " + (clean(c.message, limit=500) if c.answer is None else "an answer")))
                first = first or c
                continue
            if not case.expected:  # judged by a check (a distribution): its account is printed above
                console.print(Text("  expected: what the check above says (no single right answer)"))
                for name, g in c.answer.items():
                    if not name.startswith("$"):
                        console.print(Text(f"  got {name} =\n{np.array2string(np.asarray(g))}"))
                first = first or c
                continue
            want = case.expected[0]
            names = [n for n in want if not n.startswith("$")]
            if len(names) > 3:  # a program's many parts: those that differ
                tol = case.tolerance
                names = [n for n in names if n not in c.answer or not check_answer(
                    {n: c.answer[n]}, [{n: want[n]}], tol["atol"], tol["rtol"]).ok] or names[:1]
            for name in names:
                w, g = want[name], c.answer.get(name)
                if _heatmap_shows(name, w, g):
                    continue
                console.print(Text(f"  expected {name} =\n{np.array2string(np.asarray(w))}"))  # as text: "[nan nan]" is no tag
                console.print(Text(f"  got {name} =\n{np.array2string(np.asarray(g)) if g is not None else None}"))
                if isinstance(g, np.ndarray) and isinstance(w, np.ndarray) and g.shape == w.shape \
                        and g.dtype.kind in "fiub" and w.dtype.kind in "fiub":
                    console.print(Text(f"  difference (got - expected) =\n{np.array2string(g.astype(float) - w)}"))
        first = first or c
    return first


def _heatmap_shows(name: str, want, got) -> bool:
    return (name.endswith("weights") and got is not None and got.shape == want.shape and want.ndim >= 2
            and want.shape[-1] <= HEAT_MAX and want.shape[-2] <= HEAT_MAX)


HEAT_MAX = 10  # heatmaps for attention weights of at most this many queries and keys


def _weights_slice(case_result):
    """(name, expected 2-D, got 2-D, where) for the worst query-key slice of a failing weights leaf."""
    import numpy as np

    case = case_result.case
    if case is None or case_result.answer is None or not case.expected:
        return None
    for name, want in case.expected[0].items():
        got = case_result.answer.get(name)
        if not _heatmap_shows(name, want, got):
            continue
        diff = np.abs(np.nan_to_num(got.astype(float) - want, nan=np.inf))
        if diff.size == 0 or diff.max() == 0:
            continue
        lead = np.unravel_index(int(np.argmax(diff.reshape(-1, *want.shape[-2:]).max(axis=(1, 2)))), want.shape[:-2])
        where = "[" + ", ".join(str(int(i)) for i in lead) + "]" if lead else ""
        return name, want[lead], got[lead].astype(float), where
    return None


def _grid(title: str, values, masked, lo: float, hi: float):
    """A small heatmap: one cell per weight, shaded by value; masked cells shown as a dot."""
    import numpy as np
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_header=False, box=None, padding=(0, 0), title_style="bold")
    for _ in range(values.shape[1]):
        table.add_column(justify="right", width=6)
    span = max(hi - lo, 1e-12)
    for i in range(values.shape[0]):
        cells = []
        for j in range(values.shape[1]):
            v = values[i, j]
            if masked[i, j] and v == 0:
                cells.append(Text("   ·  ", style="dim"))
                continue
            if not np.isfinite(v):
                cells.append(Text("  nan " if np.isnan(v) else "  inf ", style="bold white on red"))
                continue
            level = int(np.clip((v - lo) / span, 0, 1) * 4)
            style = ["", "on grey23", "on grey39", "on grey58", "black on grey82"][level]
            cells.append(Text(f"{v:6.2f}", style=style))
        table.add_row(*cells)
    return table


def _show_heatmaps(cases, console) -> None:
    """Expected, got and their difference, side by side, for the first small failing weights."""
    import numpy as np
    from rich.columns import Columns
    from rich.text import Text

    for c in cases:
        if c.verdict != "wrong-answer":
            continue
        found = _weights_slice(c)
        if not found:
            continue
        name, want, got, where = found
        masked = want == 0
        diff = got - want
        console.print(Text.assemble((f"\n{name}{where} in case {c.name!r}", "bold"),
                                    " (rows: queries, columns: keys; · = masked, weight exactly 0)"))
        hi = float(np.nanmax(np.r_[want.ravel(), got[np.isfinite(got)].ravel(), 1.0]))
        big = float(np.nanmax(np.abs(diff[np.isfinite(diff)]), initial=1e-12))
        console.print(Columns([_grid("expected", want, masked, 0.0, hi), _grid("yours", got, masked, 0.0, hi),
                               _grid("yours - expected", diff, np.zeros_like(masked), -big, big)], padding=(0, 3)))
        return


def render_trace(report, console) -> None:
    """``run --trace``: each traced line, the shape of what it computed, and the shape
    annotation of the reference line whose value it matches (red where none does)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"line by line, case {clean(report.trace_case, 120)}", title_justify="left")
    for name, justify in (("line", "right"), ("your code", "left"), ("value", "left"), ("shape", "left"),
                          ("reference", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for row in report.trace:
        shape = "(" + ", ".join(str(n) for n in row["shape"]) + ("," if len(row["shape"]) == 1 else "") + ")"
        ref = (f"line {row['reference_line']} {row['annotation']}".strip() if row["reference_line"]
               else "matches no value of the reference")
        table.add_row(str(row["line"]), Text(clean(row["code"], 90)), Text(clean(row["name"], 40)),
                      Text(shape, "" if row["matches"] else "red"), Text(ref, "dim" if row["matches"] else "red"))
    console.print(table)
