"""`mhajudge grade --format html`: one self-contained page for course staff, through the real CLI.

A small class (a correct sdpa, one without the 1/sqrt(d_k) scale, a syntax error,
and a file whose name and exception message are HTML) is graded to a page, which
is read twice: as text by a strict parser (no external reference, the right rows
and counts, hostile strings escaped and never tags, hidden messages withheld) and
by a real headless Chromium (the rendered DOM holds the rows, the page's script
ran to its end, the console stayed empty, a screenshot renders).
"""

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import SDPA_CORRECT, run_cli

HEADER = "# mhajudge: sdpa\nimport numpy as np\n"
CORRECT = HEADER + SDPA_CORRECT
WRONG = CORRECT.replace(" / np.sqrt(Q.shape[-1])", "")  # no 1/sqrt(d_k) scale
SYNTAX = "# mhajudge: sdpa\ndef scaled_dot_product_attention(Q, K, V, mask=None)\n    return Q\n"
HOSTILE_MESSAGE = "<script>alert(\"msg\")</script> <b onclick='x()'>&amp; \x07bell"
HOSTILE = HEADER + f"""
def scaled_dot_product_attention(Q, K, V, mask=None):
    raise ValueError({HOSTILE_MESSAGE!r})
"""
# A file name cannot hold "/", so its tag stays open; quotes and an escape come along.
HOSTILE_NAME = "<script>alert(1)<img src=x onerror=alert(2)> \"q\" 'q' \x1b[2J.py"
HOSTILE_ROW = HOSTILE_NAME.replace("\x1b", "\\u001b")  # as every report shows it (grading.report_name)

EXPECTED = {"correct.py": "accepted", "no_scale.py": "wrong-answer", "syntax.py": "load-error",
            HOSTILE_ROW: "runtime-error"}
WITHHELD = "withheld (hidden case)"
CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, tag=None, cls=None):
        """Every element below this one with that tag and/or class."""
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.attrs.get("class", "").split()):
                    yield c
                yield from c.all(tag, cls)

    def find(self, **attrs):
        return next(n for n in self.all() if all(n.attrs.get(k) == v for k, v in attrs.items()))


class _Tree(HTMLParser):
    """A strict enough DOM of a page: attribute values and text come back unescaped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.at = Node("#document", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag):
        node = self.at
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.at = node.parent

    def handle_data(self, data):
        self.at.children.append(data)


def parse(page: str) -> Node:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return tree.root


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    d = tmp_path_factory.mktemp("class")
    (d / "correct.py").write_text(CORRECT)
    (d / "no_scale.py").write_text(WRONG)
    (d / "syntax.py").write_text(SYNTAX)
    (d / HOSTILE_NAME).write_text(HOSTILE)
    return d


def grade(folder, *args):
    code, out, err = run_cli("grade", folder, "--problem", "sdpa", "--jobs", "2", *args)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def report_json(submissions, tmp_path_factory):
    """The same class as JSON: the facts the page must show."""
    path = tmp_path_factory.mktemp("json") / "report.json"
    grade(submissions, "--format", "json", "-o", path)
    return json.loads(path.read_text(encoding="utf-8")), path


@pytest.fixture(scope="module")
def page_path(submissions, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    assert grade(submissions, "--format", "html", "-o", path) == ""
    return path


@pytest.fixture(scope="module")
def page(page_path):
    return page_path.read_text(encoding="utf-8")


def rows(dom: Node) -> dict:
    """Each submission's row: its shown name -> (its verdict attribute, its node)."""
    return {next(d.all("span", "name")).text(): (d.attrs["data-verdict"], d) for d in dom.all("details", "sub")}


# -- the page as text ------------------------------------------------------------------


def test_the_page_loads_nothing_from_anywhere(page):
    assert "http://" not in page and "https://" not in page
    dom = parse(page)
    for node in dom.all():
        assert node.tag not in ("link", "iframe", "object", "embed", "base", "img", "audio", "video"), node.tag
        for attr in ("src", "href", "action", "srcset", "poster", "xlink:href", "formaction"):
            value = node.attrs.get(attr)
            assert value is None or value.startswith(("data:", "#")), f"<{node.tag} {attr}={value!r}>"
    style = "".join(s.text() for s in dom.all("style"))
    assert "url(" not in style and "@import" not in style
    policy = dom.find(**{"http-equiv": "Content-Security-Policy"}).attrs["content"]
    assert policy.startswith("default-src 'none';")


def test_one_row_per_submission_with_its_verdict(page, report_json):
    got = {name: verdict for name, (verdict, _) in rows(parse(page)).items()}
    assert got == EXPECTED
    assert list(got) == [r["path"] for r in report_json[0]["submissions"]]  # path order, as grade gives


def test_the_counts_histogram_and_diagnoses_are_the_class(page):
    dom = parse(page)
    counts = {li.attrs["data-verdict"]: int(li.attrs["data-count"]) for li in dom.all("li", "count")}
    assert counts == {"accepted": 1, "wrong-answer": 1, "runtime-error": 1, "load-error": 1,
                      "time-limit": 0, "memory-limit": 0, "forbidden": 0}
    bins = {int(g.attrs["data-bin"]): int(g.attrs["data-count"]) for g in dom.find(id="histogram").all("g")}
    # 0/18 twice (syntax error, crash), 2/18 = 11 % without the scale, 18/18
    assert bins == {i: n for i, n in enumerate([2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1])}
    diagnoses = [[td.text() for td in tr.all("td")][:3] for tr in dom.find(id="diagnoses").all("tbody")
                 for tr in tr.all("tr")]
    assert diagnoses == [["no-scale", "1", "25%"]]


def test_a_row_opens_on_its_failing_cases_hidden_ones_withheld(page, report_json):
    by_name = rows(parse(page))
    wrong = next(r for r in report_json[0]["submissions"] if r["path"] == "no_scale.py")
    failing = [c for c in wrong["cases"] if c["verdict"] != "accepted"]
    cells = [[td.text().strip() for td in tr.all("td")] for tr in by_name["no_scale.py"][1].all("tr", "case")]
    assert [c[0] for c in cells] == [c["name"] for c in failing]
    for case, row in zip(failing, cells):
        if case["group"] == "hidden":
            assert row[5] == WITHHELD and row[3] != "-"  # the error size, never the message
        else:
            assert row[5] == case["message"] and case["message"]
    assert not list(by_name["correct.py"][1].all("tr", "case"))
    assert "Every case passed." in by_name["correct.py"][1].text()
    # a file that does not load: one row for all its cases, with the error a sample case shows
    (load,) = [[td.text() for td in tr.all("td")] for tr in by_name["syntax.py"][1].all("tr", "case")]
    assert load[0] == f"(all {wrong['total']} cases)" and "SyntaxError" in load[5]


def test_hostile_strings_are_escaped_and_never_tags(page):
    assert not CONTROLS.search(page)
    assert page.count("<script") == 1  # the page's own, last in the body
    assert "&lt;script&gt;alert(1)&lt;img src=x onerror=alert(2)&gt; &quot;q&quot; &#x27;q&#x27;" in page
    assert "&lt;script&gt;alert(&quot;msg&quot;)&lt;/script&gt; &lt;b onclick=&#x27;x()&#x27;&gt;&amp;amp;" in page
    dom = parse(page)
    assert [s.parent.tag for s in dom.all("script")] == ["body"] and not list(dom.all("img"))
    for node in dom.all():
        assert not any(a.startswith("on") for a in node.attrs), (node.tag, node.attrs)
    crashed = rows(dom)[HOSTILE_ROW][1]
    assert HOSTILE_MESSAGE.replace("\x07", "") in crashed.text()  # shown as the text it is


def test_merge_and_run_render_the_same_page(report_json, tmp_path):
    """`merge --format html` (to stdout, no -o) and `run --format html` (a class of one)."""
    _, json_path = report_json
    code, out, err = run_cli("merge", json_path, "--format", "html")
    assert code == 0, err
    assert set(rows(parse(out))) == set(EXPECTED)
    solution = tmp_path / "no_scale.py"
    solution.write_text(WRONG)
    code, out, err = run_cli("run", solution, "--problem", "sdpa", "--format", "html", "--no-record")
    assert code == 1, err
    ((verdict, row),) = rows(parse(out)).values()
    assert verdict == "wrong-answer" and WITHHELD in row.text()


def test_a_hand_made_report_given_to_merge_cannot_inject_either(tmp_path):
    """merge reads any JSON file: every field of it may be markup, or not what it should be.
    merge refuses a row grade did not write (exit 2, no traceback); the page drawn from
    such a report anyway (html_report.render, a library call) still injects nothing."""
    from mhajudge.formats import plain
    from mhajudge.html_report import render

    tag = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"
    run = {"path": "a" + tag, "verdict": tag, "passed": tag, "total": None, "score": "NaN", "time_s": "x",
           "diagnoses": [{"id": tag, "message": tag}], "notes": [tag],
           "cases": [{"name": tag, "group": "sample", "verdict": tag, "max_abs_error": "1e999", "message": tag},
                     {"name": "h", "group": tag, "verdict": "wrong-answer", "message": "SECRET" + tag}]}
    report = tmp_path / "hand.json"
    report.write_text(json.dumps({"problem": tag, "submissions": [run]}))
    code, page, err = run_cli("merge", report, "--format", "html")
    assert code == 2 and "not a row grade wrote" in err and "Traceback" not in err, err
    page = render(plain({"problem": tag, "submissions": [run]}))
    assert page.count("<script") == 1 and "SECRET" not in page  # not a sample case: withheld
    dom = parse(page)
    assert {n.tag for n in dom.all()} <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "ul",
                                           "li", "b", "span", "svg", "line", "g", "title", "rect", "text", "table",
                                           "thead", "tbody", "tr", "th", "td", "code", "div", "details", "summary",
                                           "input", "select", "option", "button", "pre", "em", "script"}
    for node in dom.all():
        assert not any(a.startswith("on") or a == "src" for a in node.attrs), (node.tag, node.attrs)
    ((verdict, row),) = rows(dom).values()
    assert verdict == tag and next(row.all("span", "name")).text() == "a" + tag


# -- the page in a real browser ---------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed "
                                    "(apt-get install chromium; .ci/run installs it where it can)")
# INFO:CONSOLE:12] or INFO:CONSOLE(12)]: one line per console message, errors and
# uncaught exceptions included, with --enable-logging=stderr (checked by the probe below).
CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\]")


def browse(url_path: Path, profile: Path, *flags) -> tuple[str, list[str]]:
    """Chromium, headless and offline, on a file: its stdout and its console lines."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--enable-logging=stderr", "--log-level=0", *flags, url_path.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(profile)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, [line for line in proc.stderr.splitlines() if CONSOLE.search(line)]


@pytest.fixture(scope="module")
def console_probe(tmp_path_factory):
    """The console capture, proven on a page that logs an error and throws: without this,
    "no console line" could mean that the capture is broken."""
    d = tmp_path_factory.mktemp("probe")
    probe = d / "probe.html"
    probe.write_text('<!DOCTYPE html><body><script>console.error("probe-error"); notDefined();</script>')
    _, lines = browse(probe, d / "profile", "--dump-dom")
    text = "\n".join(lines)
    if "probe-error" not in text or "Uncaught ReferenceError" not in text:
        pytest.fail(f"this Chromium does not print console messages with --enable-logging=stderr: got {lines}")


@needs_chromium
def test_chromium_renders_the_rows_and_the_console_stays_empty(page_path, console_probe, tmp_path):
    dom_text, console = browse(page_path, tmp_path / "profile", "--dump-dom")
    assert console == []
    dom = parse(dom_text)
    html = next(dom.all("html"))
    assert html.attrs.get("data-script") == "ran"  # the page's script ran to its last line
    assert set(rows(dom)) == set(EXPECTED)
    assert {name: v for name, (v, _) in rows(dom).items()} == EXPECTED
    assert "hidden" not in dom.find(id="controls").attrs
    assert dom.find(id="shown").text() == "4 of 4 shown"
    assert [s.parent.tag for s in dom.all("script")] == ["body"] and not list(dom.all("img"))


@needs_chromium
def test_chromium_shows_every_row_without_the_script(page, console_probe, tmp_path):
    """<details> needs no JavaScript: the page less its script still has every row, and
    the filter (which would do nothing) stays hidden."""
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<script>.*?</script>", "", page, flags=re.S), encoding="utf-8")
    dom_text, console = browse(bare, tmp_path / "profile", "--dump-dom")
    assert console == []
    dom = parse(dom_text)
    assert set(rows(dom)) == set(EXPECTED)
    assert "hidden" in dom.find(id="controls").attrs


@needs_chromium
def test_chromium_takes_a_screenshot(page_path, tmp_path):
    shot = tmp_path / "report.png"
    browse(page_path, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,900")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_similarity_pairs_are_on_the_page(tmp_path):
    """A stranger: --similarity with --format html gave a page with no word of it."""
    subs = tmp_path / "subs"
    subs.mkdir()
    tag = "<b onmouseover=alert(1)>x"
    (subs / "a.py").write_text(WRONG)
    (subs / f"{tag}.py").write_text(WRONG)
    (subs / "c.py").write_text("import numpy as np\n" + SDPA_CORRECT)
    page_path = tmp_path / "p.html"
    code, _, err = run_cli("grade", subs, "-p", "sdpa", "--similarity", "--format", "html", "-o", page_path)
    assert code == 0, err
    page = page_path.read_text()
    assert "Near-duplicate pairs" in page
    dom = parse(page)
    for node in dom.all():
        assert not any(a.startswith("on") for a in node.attrs), (node.tag, node.attrs)
    section = page[page.index("Near-duplicate pairs"):page.index("<h2>Submissions")]
    assert "a.py" in section and "&lt;b onmouseover=alert(1)&gt;x.py" in section
    code, _, err = run_cli("grade", subs, "-p", "sdpa", "--format", "html", "-o", page_path)
    assert "Near-duplicate pairs" not in page_path.read_text()  # only when asked
