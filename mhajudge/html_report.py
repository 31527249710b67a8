"""The HTML report of a grade: one self-contained page for course staff.

    from mhajudge.html_report import render
    page = render(grade)     # the contract's grade object {"problem", "submissions": [...]}

Staff triage a class from it: the verdict counts, a score histogram, the named
mistakes most of the class made, then one row per submission that opens
(``<details>``, so it works without JavaScript) on its failing cases.

The page is opened from a disk, a mail or a CI artefact, often offline: it holds
its CSS and its script inline and loads nothing (no CDN, fonts or images). Its
Content-Security-Policy allows only that style and that script, by hash, so
even a string that escaped escaping could neither run nor fetch anything.

Everything shown comes from the report, whose strings the submitters control
(file names, exception messages): each goes through :func:`formats.plain` and
:func:`html.escape` (:func:`_t`), in text and in attributes alike, and the
script only ever sets ``textContent``, ``hidden`` and ``open``. Hidden cases show
their name, verdict and error size only; their messages are withheld, as in
every ``grade`` output.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections import Counter

from . import __version__
from .formats import number, plain
from .results import COLOURS, VERDICTS
from .untrusted import shown_name

MESSAGE_LIMIT = 600   # characters of one case's message on the page (the JSON report keeps all)
REASON_LIMIT = 120    # characters of the reason in a submission's row
BINS = 11             # score histogram: 0-9 %, ..., 90-99 %, and 100 % on its own
WITHHELD = "withheld (hidden case)"

# The verdict colours of results.COLOURS (rich names), as CSS colours.
_CSS_COLOUR = {"green": "#1a7f37", "red": "#cf222e", "magenta": "#8250df", "yellow": "#9a6700"}


def _verdict_css() -> str:
    """The verdicts' classes, in the colours of ``results.COLOURS``: page and terminal agree."""
    lines = [f":root {{ --ok: {_CSS_COLOUR[COLOURS['accepted']]}; }}"]
    lines += [f".v-{v} {{ color: {_CSS_COLOUR.get(c, 'inherit')}; font-weight: 600; white-space: nowrap; }}"
              for v, c in COLOURS.items()]
    return "\n".join(lines) + "\n"


CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #fff; --panel: #f6f8fa; --bar: #4c78a8; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --bg: #0d1117; --panel: #151b23; --bar: #6e9fd6; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; color: var(--fg); background: var(--bg);
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
.muted { color: var(--muted); } code, pre, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; }
.counts { display: flex; flex-wrap: wrap; gap: .5rem; list-style: none; padding: 0; margin: .75rem 0; }
.count { border: 1px solid var(--line); border-radius: .4rem; padding: .35rem .7rem; background: var(--panel); }
.count b { font-size: 1.25rem; margin-right: .3rem; } .count.zero { opacity: .45; }
.hist { width: 100%; max-width: 36rem; height: auto; }
.hist rect { fill: var(--bar); } .hist text { fill: var(--fg); font-size: 11px; text-anchor: middle; }
.hist line { stroke: var(--line); } .hist .full rect { fill: var(--ok); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
td.num, th.num { text-align: right; white-space: nowrap; }
.msg { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-size: .85rem; }
.subs { border-top: 1px solid var(--line); }
.cols { display: grid; grid-template-columns: minmax(10rem, 2fr) 9rem 4.5rem 4rem 4.5rem minmax(8rem, 3fr);
        gap: .75rem; align-items: baseline; padding: .4rem .5rem .4rem 1.5rem; }
.head { font-weight: 600; border-bottom: 1px solid var(--line); }
details.sub { border-bottom: 1px solid var(--line); }
details.sub > summary { list-style: none; cursor: pointer; position: relative; }
details.sub > summary::-webkit-details-marker { display: none; }
details.sub > summary::before { content: "\\25B8"; position: absolute; left: .4rem; color: var(--muted); }
details.sub[open] > summary::before { content: "\\25BE"; }
details.sub > summary:hover { background: var(--panel); }
.cols > span { overflow-wrap: anywhere; } .cols .num { text-align: right; }
.panel { padding: .5rem 1rem 1rem 1.5rem; background: var(--panel); }
.panel p { margin: .35rem 0; }
.controls { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
.controls input, .controls select, .controls button { font: inherit; padding: .2rem .4rem; }
""" + _verdict_css()

# Progressive: the page is whole without it; it adds a filter and expand/collapse all.
SCRIPT = """
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("details.sub"));
  var box = document.getElementById("filter"), pick = document.getElementById("verdict");
  var shown = document.getElementById("shown");
  function apply() {
    var q = box.value.trim().toLowerCase(), v = pick.value, n = 0;
    rows.forEach(function (r) {
      var ok = (!v || r.getAttribute("data-verdict") === v) &&
               (!q || r.getAttribute("data-name").indexOf(q) !== -1);
      r.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n + " of " + rows.length + " shown";
  }
  function openAll(open) { rows.forEach(function (r) { if (!r.hidden) { r.open = open; } }); }
  box.addEventListener("input", apply);
  pick.addEventListener("change", apply);
  document.getElementById("expand").addEventListener("click", function () { openAll(true); });
  document.getElementById("collapse").addEventListener("click", function () { openAll(false); });
  document.getElementById("controls").hidden = false;
  apply();
  document.documentElement.setAttribute("data-script", "ran");
}());
"""


def _t(value) -> str:
    """Report text as HTML text or attribute value: never markup, whatever it holds."""
    return html.escape(plain(value if isinstance(value, str) else str(value)), quote=True)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " [...]"


def _verdict(v) -> str:
    """A verdict as a coloured span; a verdict the judge does not know (a hand-edited
    report given to ``merge``) is shown as text without a class of its own."""
    v = str(v)
    cls = f' class="v-{v}"' if v in COLOURS else ""
    return f"<span{cls}>{_t(v)}</span>"


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _head(title: str) -> str:
    policy = (f"default-src 'none'; style-src {_csp_hash(CSS)}; script-src {_csp_hash(SCRIPT)}; "
              "base-uri 'none'; form-action 'none'")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"referrer\" content=\"no-referrer\">\n"
            f"<title>{title}</title>\n<style>{CSS}</style>\n</head>\n")


def _counts(subs: list[dict]) -> str:
    """Every verdict with its number of submissions (the judge's first, then any other)."""
    counts = Counter(str(r.get("verdict")) for r in subs)
    items = []
    for v in list(VERDICTS) + sorted(set(counts) - set(VERDICTS)):
        n = counts.get(v, 0)
        items.append(f'<li class="count{" zero" if not n else ""}" data-verdict="{_t(v)}" data-count="{n}">'
                     f"<b>{n}</b>{_verdict(v)}</li>")
    return '<ul class="counts" id="counts">' + "".join(items) + "</ul>\n"


def _bin(score: float) -> int:
    return BINS - 1 if score >= 1 else max(0, min(BINS - 2, int(score * 10)))


def _bin_label(i: int) -> str:
    return "100%" if i == BINS - 1 else f"{10 * i}-{10 * i + 9}%"


def _histogram(subs: list[dict]) -> str:
    """The scores in 11 bars as inline SVG (attributes only: no inline style for the CSP)."""
    counts = [0] * BINS
    for r in subs:
        counts[_bin(number(r.get("score")))] += 1
    top, width, height, base = max(counts) or 1, 60, 160, 180
    bars = []
    for i, n in enumerate(counts):
        h = round(height * n / top)
        x = 20 + i * width
        full = ' class="full"' if i == BINS - 1 else ""
        bars.append(f'<g{full} data-bin="{i}" data-count="{n}"><title>{_bin_label(i)}: {n}</title>'
                    f'<rect x="{x + 8}" y="{base - h}" width="{width - 16}" height="{h}"></rect>'
                    f'<text x="{x + width // 2}" y="{base - h - 4}">{n}</text>'
                    f'<text x="{x + width // 2}" y="{base + 16}">{_bin_label(i)}</text></g>')
    label = "; ".join(f"{_bin_label(i)}: {n}" for i, n in enumerate(counts))
    return (f'<svg class="hist" id="histogram" viewBox="0 0 {40 + BINS * width} {base + 26}" role="img" '
            f'aria-label="submissions per score: {label}">'
            f'<line x1="20" y1="{base}" x2="{20 + BINS * width}" y2="{base}"></line>{"".join(bars)}</svg>\n')


def _diagnoses(subs: list[dict]) -> str:
    """The named mistakes, by how many submissions made them, with what each means."""
    counts: Counter = Counter()
    meaning: dict[str, str] = {}
    for r in subs:
        for d in r.get("diagnoses") or []:
            counts[str(d.get("id"))] += 1
            meaning.setdefault(str(d.get("id")), str(d.get("message", "")))
    if not counts:
        return '<p class="muted" id="diagnoses">No named mistake matched any submission.</p>\n'
    rows = "".join(f'<tr data-diagnosis="{_t(i)}"><td><code>{_t(i)}</code></td><td class="num">{n}</td>'
                   f'<td class="num">{100 * n / len(subs):.0f}%</td>'
                   f"<td>{_t(_cut(meaning[i], MESSAGE_LIMIT))}</td></tr>"
                   for i, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return ('<table id="diagnoses"><thead><tr><th>diagnosis</th><th class="num">submissions</th>'
            f'<th class="num">share</th><th>what it means</th></tr></thead><tbody>{rows}</tbody></table>\n')


def _sample_message(cases: list[dict]) -> str:
    """The first message a sample case shows (a hidden case's is never shown)."""
    return next((str(c.get("message") or "") for c in cases if c.get("group") == "sample" and c.get("message")), "")


def _reason(run: dict) -> str:
    """One line on what went wrong: the diagnoses, else the notes, else a sample case's message."""
    if run.get("diagnoses"):
        text = ", ".join(str(d.get("id")) for d in run["diagnoses"])
    elif run.get("notes"):
        text = "; ".join(map(str, run["notes"]))
    elif run.get("verdict") != "accepted":
        text = _sample_message([c for c in run.get("cases", []) if c.get("verdict") == run.get("verdict")])
    else:
        text = ""
    return _cut(" ".join(text.split()), REASON_LIMIT)


def _error(value) -> str:
    return "-" if value is None or not math.isfinite(number(value, math.nan)) else f"{number(value):.2e}"


def _seconds(value) -> str:
    """A case's time in a unit that shows it (cases take microseconds to seconds)."""
    if value is None:
        return "-"
    t = number(value)
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    return f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s"


def _message_cell(message: str | None) -> str:
    """A sample case's message; None for a hidden case, whose message is withheld."""
    if message is None:
        return f'<em class="muted withheld">{WITHHELD}</em>'
    return f'<pre class="msg">{_t(_cut(message, MESSAGE_LIMIT))}</pre>'


def _row(name, group, verdict, error, time_s, message: str | None) -> str:
    """A row of the failing-cases table (``message`` None: withheld)."""
    return (f'<tr class="case" data-group="{_t(group)}"><td>{_t(name)}</td><td>{_t(group)}</td>'
            f"<td>{_verdict(verdict)}</td><td class=\"num\">{_error(error)}</td>"
            f'<td class="num">{_seconds(time_s)}</td><td>{_message_cell(message)}</td></tr>')


def _case_row(c: dict) -> str:
    """One failing case: all of it for a sample case, name, verdict and error size for a hidden one."""
    sample = c.get("group") == "sample"
    return _row(c.get("name"), c.get("group"), c.get("verdict"), c.get("max_abs_error"), c.get("time_s"),
                str(c.get("message") or "") if sample else None)


def _all_alike(cases: list[dict]) -> bool:
    """Every case failed the same way with nothing to tell them apart (a file that does
    not load, a call that always raises): one row says it better than one per case."""
    samples = {str(c.get("message") or "") for c in cases if c.get("group") == "sample"}
    return (len(cases) > 1 and len({str(c.get("verdict")) for c in cases}) == 1
            and cases[0].get("verdict") != "accepted" and len(samples) <= 1
            and all(c.get("max_abs_error") is None for c in cases))


def _failing(cases: list[dict]) -> str:
    """The failing cases as a table, or one row for all of them when they are alike."""
    failing = [c for c in cases if c.get("verdict") != "accepted"]
    if not failing:
        return "<p>Every case passed.</p>" if cases else "<p>No case ran.</p>"
    if _all_alike(cases):
        body = _row(f"(all {len(cases)} cases)", "all", cases[0].get("verdict"), None, None,
                    _sample_message(cases) or None)
    else:
        body = "".join(_case_row(c) for c in failing)
    return ("<table class=\"cases\"><thead><tr><th>failing case</th><th>group</th><th>verdict</th>"
            "<th class=\"num\">max error</th><th class=\"num\">time</th><th>message</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _panel(run: dict) -> str:
    """What a row opens on: its diagnoses, its notes, its failing cases."""
    parts = [f"<p><b>diagnosis <code>{_t(d.get('id'))}</code>:</b> "
             f"{_t(_cut(str(d.get('message', '')), MESSAGE_LIMIT))}</p>" for d in run.get("diagnoses") or []]
    divergence = run.get("divergence")
    if isinstance(divergence, dict):
        parts.append(f"<p><b>where it first goes wrong</b> (case {_t(_cut(str(divergence.get('case', '')), 120))}): "
                     f"{_t(_cut(str(divergence.get('message', '')), MESSAGE_LIMIT))}</p>")
    parts += [f'<p class="note"><b>note:</b> {_t(_cut(str(n), MESSAGE_LIMIT))}</p>' for n in run.get("notes") or []]
    parts.append(_failing(run.get("cases") or []))
    return '<div class="panel">' + "".join(parts) + "</div>"


def _submission(run: dict) -> str:
    """One submission: a summary line that opens (``<details>``: no script needed) on its panel."""
    name = shown_name(str(run.get("path", "")))
    summary = (f'<summary class="cols"><span class="mono name">{_t(name)}</span>'
               f"<span>{_verdict(run.get('verdict'))}</span>"
               f'<span class="num">{_t(run.get("passed", 0))}/{_t(run.get("total", 0))}</span>'
               f'<span class="num">{100 * number(run.get("score")):.0f}%</span>'
               f'<span class="num">{number(run.get("time_s")):.2f} s</span>'
               f'<span class="reason">{_t(_reason(run))}</span></summary>')
    return (f'<details class="sub" data-verdict="{_t(run.get("verdict"))}" data-name="{_t(name.lower())}">'
            f"{summary}{_panel(run)}</details>\n")


def _controls(subs: list[dict]) -> str:
    """The filter, hidden until the script shows it (it does nothing without the script)."""
    present = sorted({str(r.get("verdict")) for r in subs})
    options = "".join(f'<option value="{_t(v)}">{_t(v)}</option>' for v in present)
    return ('<div class="controls" id="controls" hidden>'
            '<input id="filter" type="search" placeholder="filter by name" aria-label="filter by name">'
            f'<select id="verdict" aria-label="verdict"><option value="">every verdict</option>{options}</select>'
            '<button type="button" id="expand">expand all</button>'
            '<button type="button" id="collapse">collapse all</button>'
            '<span class="muted" id="shown"></span></div>\n')


def _subtitle(grade: dict, subs: list[dict]) -> str:
    accepted = sum(r.get("verdict") == "accepted" for r in subs)
    bits = [f"{len(subs)} submission{'s' if len(subs) != 1 else ''}", f"{accepted} accepted"]
    if grade.get("shard"):
        bits.append(f"shard {grade['shard']}")
    if grade.get("time_s") is not None:
        bits.append(f"graded in {number(grade['time_s']):.1f} s")
    return _t(", ".join(bits) + f" (mhajudge {__version__})")


def _class(subs: list[dict]) -> str:
    """The class at a glance: how many got each verdict, the scores, the commonest mistakes."""
    return ("<h2>Verdicts</h2>\n" + _counts(subs) + "<h2>Scores</h2>\n" + _histogram(subs)
            + "<h2>Most frequent diagnoses</h2>\n" + _diagnoses(subs))


def _submissions(subs: list[dict]) -> str:
    head = "".join(f'<span{cls}>{label}</span>' for label, cls in (
        ("submission", ""), ("verdict", ""), ("passed", ' class="num"'), ("score", ' class="num"'),
        ("time", ' class="num"'), ("diagnoses or reason", "")))
    return ("<h2>Submissions</h2>\n<p class=\"muted\">Open a row for its failing cases. Hidden cases show "
            "their name, verdict and error size only: their messages and inputs are withheld.</p>\n"
            + _controls(subs) + f'<div class="subs" id="submissions"><div class="cols head">{head}</div>\n'
            + "".join(_submission(r) for r in subs) + "</div>\n")


def render(grade: dict) -> str:
    """The page for a grade object (``grade --format json``, or ``merge``'s output)."""
    grade = plain(grade)
    subs = list(grade.get("submissions") or [])
    problem = str(grade.get("problem", ""))
    return (_head(_t(f"mhajudge: {problem} ({len(subs)} submission{'' if len(subs) == 1 else 's'})"))
            + f"<body>\n<h1>{_t(problem)}: grade report</h1>\n"
            + f'<p class="muted" id="subtitle">{_subtitle(grade, subs)}</p>\n'
            + _class(subs) + _similar(grade) + _submissions(subs) + f"<script>{SCRIPT}</script>\n</body>\n</html>\n")


def _similar(grade: dict) -> str:
    """``grade --similarity``'s pairs, highest first (a section only when it was asked)."""
    pairs = grade.get("similarity")
    if not isinstance(pairs, list):
        return ""
    threshold = grade.get("similarity_threshold")
    head = (f"<h2>Near-duplicate pairs</h2>\n<p class=\"muted\">pairs scoring at least {_t(threshold)} "
            "(the starter file's text ignored); a lead to look at, not a verdict</p>\n")
    if not pairs:
        return head + "<p>none</p>\n"
    rows = "".join(f"<tr><td><code>{_t(p.get('a', ''))}</code></td><td><code>{_t(p.get('b', ''))}</code></td>"
                   f"<td>{_t(p.get('score', ''))}</td></tr>\n" for p in pairs if isinstance(p, dict))
    return head + f"<table><thead><tr><th>a</th><th>b</th><th>score</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n"
