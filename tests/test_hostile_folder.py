"""`mhajudge grade` on a hostile submissions folder, through the real CLI.

Every name, byte and symlink in a graded folder is the submitters': symlinks to
the reference solution or to files outside, loops, FIFOs, devices, sockets,
sparse files, unreadable files, names that are not UTF-8 or hold newlines,
escapes and rich markup, and candidates whose messages hold anything at all.
Each entry must get exactly one row with a reason, none may hang, crash or read
outside the folder, and every output format must stay well-formed.
"""

import csv
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
import xml.parsers.expat
from pathlib import Path

import pytest

from conftest import ROOT, SDPA_CORRECT, run_cli

HEADER = "# mhajudge: sdpa\nimport numpy as np\n"
CORRECT = HEADER + SDPA_CORRECT
WRONG = CORRECT.replace(" / np.sqrt(Q.shape[-1])", "")  # no 1/sqrt(d_k) scale
# What a candidate's message may hold: markup, escapes (clear screen, set the title),
# NUL, XML specials, a lone surrogate, a right-to-left override, and 100 KB.
NASTY = r'"[bold red]ACCEPTED[/] \x1b[2J\x1b]0;pwned\x07 \x00 ]]> <& \udcff \u202e" + "A" * 100_000'
RAISE_AT_IMPORT = HEADER + f"raise ValueError({NASTY})\n"
RAISE_IN_CALL = HEADER + f"""
def scaled_dot_product_attention(Q, K, V, mask=None):
    raise ValueError({NASTY})
"""
LIMIT = 256 * 1024
MARKER = f"CANARY_{uuid.uuid4().hex}"  # in a file outside the folder: must never show up
FORBIDDEN_TEXT = ("\x1b", "\x00", "\x07", "\u202e", MARKER)

# path in the report -> (verdict, words the row's reason must hold, or None for a judged row)
EXPECTED = {
    "correct.py": ("accepted", None),
    "wrong.py": ("wrong-answer", None),
    # symlinks
    "to-reference.py": ("load-error", "symlink pointing outside"),
    "to-shadow.py": ("load-error", "symlink pointing outside"),
    "to-root.py": ("load-error", "symlink pointing outside"),
    "to-canary.py": ("load-error", "symlink pointing outside"),
    "to-zero.py": ("load-error", "symlink pointing outside"),
    "loop-a.py": ("load-error", "symlink loop"),
    "loop-b.py": ("load-error", "symlink loop"),
    "dangling.py": ("load-error", "dangling symlink"),
    "dangling": ("load-error", "dangling symlink"),
    "up": ("load-error", "symlink to a folder"),
    "self": ("load-error", "symlink to a folder"),
    "self.py": ("load-error", "a symlink to a folder"),
    "alias.py": ("accepted", None),                 # a symlink inside the folder: followed
    # not regular files
    "fifo.py": ("load-error", "not a regular file (a FIFO)"),
    "sock.py": ("load-error", "not a regular file (a socket)"),
    "null.py": ("load-error", "not a regular file (a character device)"),
    # sizes
    "sparse.py": ("load-error", "the file is 10,737,418,240 bytes; the limit for a submission is "
                                "262,144 bytes (256 KiB)"),
    "big.py": ("load-error", "the file is 300,000 bytes; the limit for a submission is 262,144 bytes (256 KiB)"),
    "exactly-the-limit.py": ("accepted", None),
    # names: each is judged like any file, and shown escaped
    "\\xff\\xfe.py": ("accepted", None),
    "\\\\xff\\\\xfe.py": ("wrong-answer", None),       # a name made of a backslash and 'xff...'
    "new\\nline.py": ("accepted", None),
    "tab\\there.py": ("accepted", None),
    "\\u001b[2J\\u001b]0;title\\u0007esc.py": ("accepted", None),
    "rtl\\u202efdp.py": ("accepted", None),
    "[red]x.py": ("accepted", None),
    "[link=evil.example]y.py": ("accepted", None),
    # candidates' messages
    "boom-import.py": ("load-error", None),
    "boom-call.py": ("runtime-error", None),
    # sub-folders
    "sub-ok": ("accepted", None),                   # solution.py -> impl/real.py, and up -> ..
    "sub-cross": ("load-error", "solution.py: a symlink pointing outside sub-cross/"),
    "sub-shadow": ("load-error", "solution.py: a symlink pointing outside sub-shadow/"),
    "sub-fifo": ("load-error", "solution.py: not a regular file (a FIFO)"),
    "sub-sparse": ("load-error", "solution.py: the file is 10,737,418,240 bytes"),
    "sub-loop": ("load-error", "solution.py: a symlink loop"),
    "sub-dirlinks": ("load-error", "the folder holds no .py file"),
    "sub-many": ("load-error", "more than 1,000 entries"),
    "sub-deep": ("load-error", "nested more than 8 deep"),
    "sub-headers": ("accepted", None),              # a.py has the header, b.py -> outside is not read
    "sub-names": ("accepted", None),                # its one file's name is not UTF-8
    "[red]sub": ("load-error", "solution.py: not a regular file (a FIFO)"),
}


def build_hostile(d: Path, outside: Path) -> dict:
    """The mixed folder; returns EXPECTED less what this machine does not permit."""
    expected = dict(EXPECTED)
    outside.mkdir()
    (outside / "canary.py").write_text(f"{MARKER} this line is not Python\n")
    (d / "correct.py").write_text(CORRECT)
    (d / "wrong.py").write_text(WRONG)
    os.symlink(ROOT / "reference" / "sdpa.py", d / "to-reference.py")
    os.symlink("/etc/shadow", d / "to-shadow.py")
    os.symlink("/", d / "to-root.py")
    os.symlink(outside / "canary.py", d / "to-canary.py")
    os.symlink("/dev/zero", d / "to-zero.py")
    os.symlink("loop-b.py", d / "loop-a.py")
    os.symlink("loop-a.py", d / "loop-b.py")
    os.symlink("missing.py", d / "dangling.py")
    os.symlink("missing", d / "dangling")
    os.symlink("..", d / "up")
    os.symlink(".", d / "self")
    os.symlink(".", d / "self.py")
    os.symlink("correct.py", d / "alias.py")
    os.mkfifo(d / "fifo.py")
    old = os.getcwd()
    os.chdir(d)  # a socket's path is limited to 108 bytes: bind it by a short relative one
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.bind("sock.py")
    finally:
        os.chdir(old)
    try:
        os.mknod(d / "null.py", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError):
        del expected["null.py"]  # no mknod here (not root, or a container without it)
    with open(d / "sparse.py", "wb") as f:
        f.truncate(10 * 1024 ** 3)
    (d / "big.py").write_text(CORRECT + "#" * (300_000 - len(CORRECT) - 1) + "\n")
    (d / "exactly-the-limit.py").write_text(CORRECT + "#" * (LIMIT - len(CORRECT) - 1) + "\n")
    assert (d / "big.py").stat().st_size == 300_000 and (d / "exactly-the-limit.py").stat().st_size == LIMIT
    base = os.fsencode(d)
    for name, text in ((b"\xff\xfe.py", CORRECT), (b"\\xff\\xfe.py", WRONG), (b"new\nline.py", CORRECT),
                       (b"tab\there.py", CORRECT), (b"\x1b[2J\x1b]0;title\x07esc.py", CORRECT),
                       ("rtl\u202efdp.py".encode(), CORRECT), (b"[red]x.py", CORRECT),
                       (b"[link=evil.example]y.py", CORRECT)):
        with open(os.path.join(base, name), "w") as f:
            f.write(text)
    (d / "boom-import.py").write_text(RAISE_AT_IMPORT)
    (d / "boom-call.py").write_text(RAISE_IN_CALL)
    # a hidden entry is no submission: no row, and never read
    os.symlink(outside / "canary.py", d / ".hidden.py")

    sub = d / "sub-ok"
    (sub / "impl").mkdir(parents=True)
    (sub / "impl" / "real.py").write_text(CORRECT)
    os.symlink("impl/real.py", sub / "solution.py")
    os.symlink("..", sub / "up")
    (d / "sub-cross").mkdir()
    os.symlink("../correct.py", d / "sub-cross" / "solution.py")
    (d / "sub-shadow").mkdir()
    os.symlink("/etc/shadow", d / "sub-shadow" / "solution.py")
    (d / "sub-fifo").mkdir()
    os.mkfifo(d / "sub-fifo" / "solution.py")
    (d / "sub-sparse").mkdir()
    with open(d / "sub-sparse" / "solution.py", "wb") as f:
        f.truncate(10 * 1024 ** 3)
    (d / "sub-loop").mkdir()
    os.symlink("solution.py", d / "sub-loop" / "solution.py")
    (d / "sub-dirlinks").mkdir()
    os.symlink(".", d / "sub-dirlinks" / "here")
    os.symlink("..", d / "sub-dirlinks" / "parent")
    os.symlink("/", d / "sub-dirlinks" / "root")
    (d / "sub-many").mkdir()
    for i in range(1001):
        (d / "sub-many" / f"f{i:04}.txt").write_text("")
    (d / "sub-many" / "solution.py").write_text(CORRECT)
    deep = d / "sub-deep"
    for i in range(12):
        deep = deep / f"level{i}"
    deep.mkdir(parents=True)
    (deep / "solution.py").write_text(CORRECT)
    (d / "sub-headers").mkdir()
    (d / "sub-headers" / "a.py").write_text(CORRECT)
    os.symlink(outside / "canary.py", d / "sub-headers" / "b.py")
    (d / "sub-names").mkdir()
    with open(os.path.join(base, b"sub-names", b"\xff.py"), "w") as f:
        f.write(CORRECT)
    (d / "[red]sub").mkdir()
    os.mkfifo(d / "[red]sub" / "solution.py")
    return expected


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    top = tmp_path_factory.mktemp("hostile")
    d = top / "subs"
    d.mkdir()
    return d, build_hostile(d, top / "outside")


def grade(folder, *args, env=None):
    start = time.perf_counter()
    code, out, err = run_cli("grade", folder, "--problem", "sdpa", "--time-limit", "2", "--jobs", "4", *args,
                             env=env, timeout=240)
    return code, out, err, time.perf_counter() - start


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity and any string that is not valid UTF-8."""
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    data = json.loads(text, parse_constant=refuse)

    def walk(obj):
        if isinstance(obj, str):
            obj.encode("utf-8")  # a lone surrogate fails here
            assert not any(ch in obj for ch in FORBIDDEN_TEXT), repr(obj[:200])
            assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in obj), repr(obj[:200])
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(k)
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)
    walk(data)
    return data


def strict_xml(text: str):
    """Parsed by expat with no leniency, and holding only XML 1.0 characters."""
    for ch in text:
        code = ord(ch)
        assert code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD \
            or 0x10000 <= code <= 0x10FFFF, f"not an XML 1.0 character: {code:#x}"
    parser = xml.parsers.expat.ParserCreate("UTF-8")
    parser.Parse(text.encode("utf-8"), True)
    return ET.fromstring(text.encode("utf-8"))


def assert_clean(text: str, what: str):
    for bad in FORBIDDEN_TEXT:
        assert bad not in text, f"{what} holds {bad!r}"


def test_one_hostile_folder_every_entry_one_sensible_row_every_format_well_formed(hostile, tmp_path):
    folder, expected = hostile
    junit_path, csv_path = tmp_path / "junit.xml", tmp_path / "grades.csv"

    code, out, err, took = grade(folder, "--format", "json", "--csv", csv_path)
    assert code == 0, err
    assert took < 180
    assert "Traceback" not in err
    assert_clean(out, "the JSON report")
    assert_clean(err, "stderr")
    report = strict_json(out)
    rows = report["submissions"]
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)), "a path has two rows"
    assert sorted(paths) == sorted(expected), set(paths) ^ set(expected)
    assert paths == sorted(paths)
    for row in rows:
        verdict, reason = expected[row["path"]]
        assert row["verdict"] == verdict, (row["path"], row["verdict"], row["notes"], row["cases"][:1])
        assert not row.get("judge_error"), row
        if reason is not None:
            assert any(reason in n for n in row["notes"]), (row["path"], row["notes"])
            # shaped as any load-error's: every case, each a load-error (worth its points in Gradescope)
            assert len(row["cases"]) == row["total"] and row["passed"] == 0
            assert all(c["verdict"] == "load-error" for c in row["cases"])
    by_path = {r["path"]: r for r in rows}
    assert [d["id"] for d in by_path["wrong.py"]["diagnoses"]] == ["no-scale"]
    assert "to /etc/shadow" in by_path["to-shadow.py"]["notes"][0]
    # The candidates' messages arrive cleaned and capped, but still say what happened.
    boom = by_path["boom-import.py"]["cases"][0]["message"]
    assert "ValueError" in boom and "[bold red]ACCEPTED[/]" in boom and len(boom) < 5000
    boom = next(c["message"] for c in by_path["boom-call.py"]["cases"] if c["group"] == "sample")
    assert "ValueError" in boom and "[bold red]ACCEPTED[/]" in boom
    # A 'file' that shows where a judged row came from, escaped like its path.
    assert by_path["\\xff\\xfe.py"]["file"].endswith("\\xff\\xfe.py")

    # CSV: parsed back, one line per row, no control characters.
    raw = csv_path.read_text(encoding="utf-8")
    assert_clean(raw, "the CSV")
    assert not any(ord(ch) < 32 and ch != "\n" for ch in raw)
    assert raw.count("\n") == len(rows) + 1
    parsed = list(csv.DictReader(io.StringIO(raw)))
    assert [r["path"] for r in parsed] == paths
    assert [r["verdict"] for r in parsed] == [r["verdict"] for r in rows]

    # JUnit: valid XML 1.0, one suite per row, named by its path.
    code, _, err, _ = grade(folder, "--format", "junit", "--output", junit_path)
    assert code == 0, err
    xml_text = junit_path.read_text(encoding="utf-8")
    assert_clean(xml_text, "the JUnit XML")
    root = strict_xml(xml_text)
    assert ET.parse(junit_path).getroot().tag == "testsuites"
    assert [s.get("name") for s in root.findall("testsuite")] == paths

    # Gradescope: strict JSON, one result per row.
    code, out, err, _ = grade(folder, "--format", "gradescope")
    assert code == 0, err
    assert_clean(out, "the Gradescope JSON")
    assert sorted(strict_json(out)["submissions"]) == sorted(paths)

    # The table: names and messages as plain text, never markup, never escapes.
    code, out, err, _ = grade(folder, env={"COLUMNS": "400"})
    assert code == 0, err
    assert_clean(out, "the table")
    assert not any(ord(ch) < 32 and ch != "\n" for ch in out)
    for path in paths:
        assert path in out, path
    assert "[bold red]ACCEPTED[/]" in out            # shown, not obeyed
    assert f"{sum(r['verdict'] == 'accepted' for r in rows)}/{len(rows)} accepted" in out


def test_shards_of_a_hostile_folder_merge_back(hostile, tmp_path):
    """Shards are chosen by a hash of the path: a name that is not UTF-8 must not break it."""
    folder, expected = hostile
    paths = []
    for k in (1, 2):
        path = tmp_path / f"shard{k}.json"
        code, _, err, _ = grade(folder, "--format", "json", "--shard", f"{k}/2", "--output", path)
        assert code == 0, err
        paths.append(path)
    code, out, err = run_cli("merge", *paths)
    assert code == 0, err
    assert sorted(r["path"] for r in strict_json(out)["submissions"]) == sorted(expected)


def _drop_dac(cmd):
    """``cmd`` run as root without the capabilities that let root read any file."""
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search", "--", *cmd]


def test_an_unreadable_file_gets_its_row(tmp_path):
    d = tmp_path / "subs"
    d.mkdir()
    (d / "correct.py").write_text(CORRECT)
    (d / "locked.py").write_text(CORRECT)
    (d / "locked.py").chmod(0)
    (d / "sub").mkdir()
    (d / "sub" / "solution.py").write_text(CORRECT)
    (d / "sub" / "solution.py").chmod(0)
    cmd = [sys.executable, "-m", "mhajudge", "grade", str(d), "--problem", "sdpa", "--format", "json"]
    probe = [sys.executable, "-c", f"open({str(d / 'locked.py')!r}).read()"]
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root reads any file, and setpriv (to drop that right) is not installed")
        cmd, probe = _drop_dac(cmd), _drop_dac(probe)
    if subprocess.run(probe, capture_output=True).returncode == 0:
        pytest.skip("this process can read a chmod-000 file even so")
    env = {k: v for k, v in os.environ.items() if k != "MHAJUDGE_SECRET"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {r["path"]: r for r in strict_json(proc.stdout)["submissions"]}
    assert sorted(rows) == ["correct.py", "locked.py", "sub"]
    assert rows["locked.py"]["verdict"] == "load-error"
    assert rows["locked.py"]["notes"] == ["cannot read the file: Permission denied"]
    assert rows["sub"]["notes"] == ["solution.py: cannot read the file: Permission denied"]
    assert rows["correct.py"]["verdict"] == "accepted"


def test_run_shows_a_hostile_message_and_output_as_plain_text(tmp_path):
    path = tmp_path / "loud.py"
    path.write_text(HEADER + "import sys\nprint('\\x1b[2J[bold red]PRINTED[/]\\x1b]0;x\\x07')\n"
                    + RAISE_IN_CALL.removeprefix(HEADER))
    code, out, err = run_cli("run", path, "--no-record", env={"COLUMNS": "300"})
    assert code == 1, err
    assert_clean(out, "the run table")
    assert "[bold red]ACCEPTED[/]" in out  # shown, not obeyed (what it printed, if shown, is cleaned too)
    code, out, err = run_cli("run", path, "--no-record", "--format", "json")
    assert code == 1, err
    assert "[bold red]ACCEPTED[/]" in strict_json(out)["cases"][0]["message"]
    code, out, err = run_cli("run", path, "--no-record", "--format", "junit")
    assert code == 1, err
    assert_clean(out, "the run JUnit")
    assert strict_xml(out).tag == "testsuites"
    code, out, err = run_cli("run", path, "--no-record", "--format", "gradescope")
    assert code == 1, err
    strict_json(out)


def test_errors_naming_a_hostile_folder_are_plain_text(tmp_path):
    name = "[bold red]nowhere\x1b[2J\x07"
    code, out, err = run_cli("grade", tmp_path / name, "--problem", "sdpa")
    assert code == 2
    assert "Traceback" not in err
    assert "\x1b" not in err and "\x07" not in err
    assert "[bold red]nowhere" in err and "no such folder" in err


def test_merge_of_reports_with_nan_gives_strict_json(tmp_path):
    """`merge` reads any JSON file (Python's reader takes NaN): what it writes must be strict."""
    row = {"path": "a\x1b[2J.py", "problem": "sdpa", "file": None, "verdict": "wrong-answer", "passed": 0,
           "total": 1, "score": 0.0, "time_s": float("inf"), "diagnoses": [], "notes": ["\x00[red]n"],
           "cases": [{"name": "c", "group": "sample", "verdict": "wrong-answer", "max_abs_error": float("nan"),
                      "time_s": float("-inf"), "message": "m\udcff"}]}
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"problem": "sdpa", "submissions": [row], "time_s": float("nan")}))
    code, out, err = run_cli("merge", report)
    assert code == 0, err
    merged = strict_json(out)
    assert merged["submissions"][0]["cases"][0]["max_abs_error"] is None
    code, out, err = run_cli("merge", report, "--format", "junit")
    assert code == 0, err
    strict_xml(out)
    code, out, err = run_cli("merge", report, "--format", "gradescope")
    assert code == 0, err
    strict_json(out)
    code, out, err = run_cli("merge", report, "--format", "table", "--csv", tmp_path / "m.csv")
    assert code == 0, err
    assert "\x1b" not in out and "[red]n" in out
    assert "\x00" not in (tmp_path / "m.csv").read_text()


def test_grade_help_states_the_size_limit():
    code, out, _ = run_cli("grade", "--help", env={"COLUMNS": "200"})
    assert code == 0
    assert "256 KiB" in out and "262,144 bytes" in out


# -- mhajudge.source, directly ---------------------------------------------------

def test_read_source_limits_and_refusals(tmp_path):
    from mhajudge.source import SOURCE_LIMIT, SourceError, read_source

    assert SOURCE_LIMIT == 262_144
    inside = tmp_path / "in"
    inside.mkdir()
    f = inside / "a.py"
    f.write_bytes(b"x = '\xff'\n")
    assert read_source(f, within=inside) == "x = '\udcff'\n"  # surrogateescape: the same bytes back
    assert read_source(f, within=inside).encode("utf-8", "surrogateescape") == f.read_bytes()
    f.write_bytes(b"#" * 10)
    assert read_source(f, limit=10) == "#" * 10
    with pytest.raises(SourceError, match="the file is 11 bytes; the limit for a submission is 10 bytes"):
        f.write_bytes(b"#" * 11)
        read_source(f, limit=10)
    (tmp_path / "out.py").write_text("secret")
    os.symlink(tmp_path / "out.py", inside / "link.py")
    assert read_source(inside / "link.py") == "secret"  # no `within`: followed
    with pytest.raises(SourceError, match="symlink pointing outside in/"):
        read_source(inside / "link.py", within=inside)
    os.mkfifo(inside / "p.py")
    start = time.perf_counter()
    with pytest.raises(SourceError, match=r"not a regular file \(a FIFO\)"):
        read_source(inside / "p.py")
    assert time.perf_counter() - start < 1
    os.symlink("/dev/zero", inside / "z.py")
    with pytest.raises(SourceError, match="a character device"):
        read_source(inside / "z.py")
    with pytest.raises(SourceError, match="a folder"):
        read_source(inside)
    with pytest.raises(SourceError, match="cannot read the file: No such file"):
        read_source(inside / "missing.py")


def test_report_names_are_one_to_one_and_printable():
    from mhajudge.grading import report_name

    names = [os.fsdecode(b"\xff.py"), "\\xff.py", "\x85.py", "\\x85.py", "a\nb.py", "a\\nb.py",
             "\u202e.py", "\x1b[2J.py", "plain.py", "[red]x.py"]
    shown = [report_name(n) for n in names]
    assert len(set(shown)) == len(names)
    for s in shown:
        s.encode("utf-8")
        assert s.isprintable(), s
    assert report_name("plain.py") == "plain.py" and report_name("[red]x.py") == "[red]x.py"
    assert report_name(os.fsdecode(b"\xff.py")) == "\\xff.py"


def test_a_file_too_deep_to_parse_is_a_load_error_not_a_judge_failure(tmp_path):
    """240 KB of `1 + 1 + ...` (under the 256 KiB source limit) makes ast.parse raise
    RecursionError: through track_of (the file mentions torch), _defined_functions (no
    header, no --problem) and the child's compile. It was `runtime-error ... the judge
    failed on this submission` and a `grade` exit of 2 for the whole class; `run` said
    'internal error'. Now it is the file's own load-error and the others are judged."""
    import json

    deep = "import numpy as np  # no torch here\nx = 1" + " + 1" * 60000 + "\n" + SDPA_CORRECT
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "deep.py").write_text(deep)
    (subs / "ok.py").write_text("import numpy as np\n" + SDPA_CORRECT)
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json", "--no-isolate")
    assert code == 0, err
    rows = {r["path"]: r for r in json.loads(out)["submissions"]}
    assert rows["deep.py"]["verdict"] == "load-error" and "nested too deeply" in rows["deep.py"]["cases"][0]["message"]
    assert rows["ok.py"]["verdict"] == "accepted"
    (tmp_path / "alone.py").write_text(deep.replace("  # no torch here", ""))
    # Its def line still names sdpa (no header, no --problem): judged, a load-error saying why.
    code, out, err = run_cli("run", tmp_path / "alone.py", "--no-record", "--format", "json")
    assert code == 1 and "internal error" not in err, err
    assert json.loads(out)["verdict"] == "load-error" and "nested too deeply" in out
