"""The edit-run loop's small courtesies, through the real CLI: --version, -h, --case,
-x, `run DIR`, `new` into folders that do not exist yet, `list` at 80 columns."""

import json

import numpy as np

import pytest

from conftest import ROOT, SOLUTIONS, run_cli

WRONG = SOLUTIONS / "sdpa" / "no_scale.py"


def test_version_and_short_help():
    from mhajudge import __version__

    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"mhajudge {__version__}"
    code, out, _ = run_cli("-h")
    assert code == 0 and "run" in out and "grade" in out
    code, out, _ = run_cli("run", "-h")
    assert code == 0 and "--case" in out and "--exitfirst" in out


def test_case_filters_by_name_and_exitfirst_stops():
    code, out, _ = run_cli("run", WRONG, "--case", "FULLY masked", "--format", "json")
    report = json.loads(out)
    assert code == 1 and [c["name"] for c in report["cases"]] == ["fully masked row #1", "fully masked row #2"]
    code, out, _ = run_cli("run", WRONG, "-x", "--format", "json")
    report = json.loads(out)
    assert code == 1 and len(report["cases"]) == 1 and report["cases"][0]["verdict"] == "wrong-answer"
    # The total stays the cases' count (a stranger found `grade -x` scoring 13/14 against
    # 16/18 without it): the cases not run are named, counted, and never passed.
    full = json.loads(run_cli("run", WRONG, "--format", "json")[1])
    assert report["total"] == full["total"] == len(full["cases"]) and report["passed"] == 0
    assert [c["name"] for c in report["not_run"]] == [c["name"] for c in full["cases"][1:]]
    assert "not_run" not in full and report["score"] == 0.0
    gs = json.loads(run_cli("run", WRONG, "-x", "--format", "gradescope")[1])  # every case a test, as without -x
    assert len(gs["tests"]) == full["total"] and gs["max_score"] == full["total"] and gs["score"] == 0
    assert sum(t["status"] == "failed" and t["output"].startswith("not run") for t in gs["tests"]) == full["total"] - 1
    code, out, _ = run_cli("run", WRONG, "-x")
    assert f"{len(report['not_run'])} not run (-x" in " ".join(out.split()), out
    import xml.etree.ElementTree as ET

    suite = ET.fromstring(run_cli("run", WRONG, "-x", "--format", "junit")[1]).find("testsuite")
    assert int(suite.get("tests")) == full["total"] and int(suite.get("skipped")) == full["total"] - 1
    assert len(suite.findall("testcase/skipped")) == full["total"] - 1
    code, _, err = run_cli("run", WRONG, "--case", "no such case")
    assert code == 2 and "matches no case" in err and "fully masked row" in err


def test_grade_takes_case_and_exitfirst(tmp_path):
    (tmp_path / "bob.py").write_text(WRONG.read_text())
    code, out, err = run_cli("grade", tmp_path, "-p", "sdpa", "--case", "float32", "-x", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)["submissions"]
    assert len(row["cases"]) == 1 and "float32" in row["cases"][0]["name"]
    assert row["total"] == 1 + len(row["not_run"]) and all("float32" in c["name"] for c in row["not_run"])


def test_run_on_a_folder_says_grade(tmp_path):
    code, _, err = run_cli("run", tmp_path)
    assert code == 2 and "mhajudge grade" in err


def test_new_makes_the_folders(tmp_path):
    target = tmp_path / "week1" / "day2" / "attn.py"
    code, out, err = run_cli("new", "sdpa", target)
    assert code == 0, err
    assert "# mhajudge: sdpa" in target.read_text()


def test_list_at_80_columns_keeps_every_id_whole():
    from mhajudge import bank

    code, out, _ = run_cli("list", env={"COLUMNS": "80"})
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    for pid in bank.problem_ids():
        assert pid in out, pid


@pytest.mark.parametrize("command", ["run", "try", "grade", "merge", "practice", "history", "stats", "validate",
                                     "new", "show"])
def test_every_commands_help_at_80_columns_shows_each_option_whole(command):
    # `grade --help` cut "--similarity-threshold" to "--similarity-th…" at 80 columns, to leave
    # room in the options' table for the --no-isolate and --show-hidden columns.
    from mhajudge.cli import load_app
    from typer.main import get_command

    code, out, err = run_cli(command, "--help", env={"COLUMNS": "80"})
    assert code == 0, err
    assert "…" not in out, [line for line in out.splitlines() if "…" in line]
    options = get_command(load_app()).commands[command].params
    for name in (opt for param in options for opt in param.opts + param.secondary_opts if opt.startswith("--")):
        assert name in out, (command, name)


def test_try_runs_your_inputs_beside_the_reference(tmp_path):
    import numpy as np

    args_py = tmp_path / "case.py"
    args_py.write_text("import numpy as np\nQ = np.eye(2)\nK = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])\n"
                       "V = np.arange(6.0).reshape(3, 2)\n")
    code, out, err = run_cli("try", WRONG, "--problem", "sdpa", "--args", args_py, env={"COLUMNS": "200"})
    assert code == 1 and "reference output" in out and "yours output" in out and "difference" in out, err
    assert "WRONG-ANSWER" in out
    npz = tmp_path / "case.npz"
    np.savez(npz, Q=np.eye(2), K=np.eye(2), V=np.ones((2, 2)))
    code, out, err = run_cli("try", SOLUTIONS / "sdpa" / "correct_einsum.py", "--args", npz)
    assert code == 0 and "ACCEPTED" in out, out + err
    np.savez(npz, Q=np.eye(2))
    code, _, err = run_cli("try", WRONG, "--args", npz)
    assert code == 2 and "does not set K, V" in err
    code, _, err = run_cli("try", WRONG, "--args", tmp_path / "nope.npz")
    assert code == 2 and "no such file" in err


def test_try_accepts_what_run_accepts_on_a_fully_masked_row(tmp_path):
    """PROBLEMS.md accepts two conventions for a row whose keys are all masked (all-zero
    weights, or the uniform weights a -1e9 fill gives): `run` took both, `try` failed the
    second ("row [1] sums to 1 (expected 0)"). nanoGPT's masked_fill style, here with -1e9,
    is what many write (reference/solutions/sdpa/real_nanogpt_masked_fill.py)."""
    fill = tmp_path / "fill.py"
    fill.write_text("import numpy as np\n\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
                    "    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])\n"
                    "    if mask is not None:\n        s = np.where(mask, s, -1e9)\n"
                    "    w = np.exp(s - s.max(-1, keepdims=True))\n    w /= w.sum(-1, keepdims=True)\n"
                    "    return w @ V, w\n")
    args = tmp_path / "masked.py"
    args.write_text("import numpy as np\nQ = np.eye(2)\nK = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])\n"
                    "V = np.arange(6.0).reshape(3, 2)\nmask = np.array([[True, False, False], [False, False, False]])\n")
    code, out, err = run_cli("run", fill, "--problem", "sdpa", "--no-record")
    assert code == 0, out + err
    code, out, err = run_cli("try", fill, "--problem", "sdpa", "--args", args, env={"COLUMNS": "200"})
    assert code == 0 and "ACCEPTED" in out and "other convention the problem accepts" in out, out + err
    assert "0.3333 0.3333 0.3333]]\n  yours weights" in out, out  # shown beside the convention it follows
    code, out, err = run_cli("try", SOLUTIONS / "sdpa" / "correct_einsum.py", "--args", args)
    assert code == 0 and "other convention" not in out, out + err
    wrong = tmp_path / "wrong.py"  # a masked row of garbage is neither convention
    wrong.write_text(fill.read_text().replace("w @ V, w", "w @ V + (~mask.any(-1))[..., None], w"))
    code, out, err = run_cli("try", wrong, "--problem", "sdpa", "--args", args)
    assert code == 1 and "WRONG-ANSWER" in out, out + err


def _notebook(path, cells):
    import json as _json

    path.write_text(_json.dumps({"cells": [{"cell_type": kind, "source": src} for kind, src in cells],
                                 "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_notebook_is_judged_by_its_code_cells(tmp_path):
    code_text = (SOLUTIONS / "sdpa" / "correct_einsum.py").read_text()
    nb = _notebook(tmp_path / "attempt.ipynb", [
        ("markdown", ["# my attempt at attention\n"]),
        ("code", ["%load_ext autoreload\n", "!pip install numpy\n", "import numpy as np\n"]),
        ("code", code_text.splitlines(True)),
        ("code", ["%%timeit\n", "scaled_dot_product_attention(np.eye(2), np.eye(2), np.eye(2))\n"]),
    ])
    code, out, err = run_cli("run", nb, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["verdict"] == "accepted", err
    # the %%timeit cell's body is Python (Jupyter runs it): only its magic line goes
    assert any("notebook" in n and "3 IPython-only" in n for n in report["notes"]), report["notes"]
    wrong = _notebook(tmp_path / "wrong.ipynb", [("code", WRONG.read_text().splitlines(True))])
    code, out, _ = run_cli("run", wrong, "--format", "json")
    assert code == 1 and {d["id"] for d in json.loads(out)["diagnoses"]} == {"no-scale"}
    (tmp_path / "broken.ipynb").write_text('{"cells": 3}')
    code, _, err = run_cli("run", tmp_path / "broken.ipynb", "--problem", "sdpa")
    assert code == 2 and "not a Jupyter notebook" in err


def test_a_function_in_a_time_cell_is_judged(tmp_path):
    """A stranger's notebook: the solution sits in a %%time cell (the cell runs as Python
    in Jupyter); help requests and shell assignments are IPython's; cells are numbered as
    the notebook shows them, markdown included."""
    from mhajudge.notebook import code_of

    code_text = (SOLUTIONS / "sdpa" / "correct_einsum.py").read_text()
    nb = _notebook(tmp_path / "timed.ipynb", [
        ("markdown", ["# attention\n"]),
        ("code", ["files = !ls\n", "np.zeros?\n", "import numpy as np\n"]),
        ("code", ["%%time\n"] + code_text.splitlines(True)),
        ("code", ["%%bash\n", "echo hi\n"]),
    ])
    code, out, err = run_cli("run", nb, "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == "accepted", out + err
    text, skipped = code_of(nb)
    assert "# --- cell 3 ---" in text and "def scaled_dot_product_attention" in text and "echo hi" not in text
    assert skipped == 5  # !ls, np.zeros?, %%time, and both lines of the %%bash cell


def test_a_continued_line_that_starts_like_a_magic_is_python(tmp_path):
    """A formatter that breaks lines before an operator (black does) starts a line with
    ``% n`` or ``!= 0`` inside brackets; a backslash continues a statement; a docstring can
    hold ``%timeit``. IPython runs all of them as Python, and so must we; a real magic
    line after them still goes."""
    from mhajudge.notebook import code_of

    code_text = (SOLUTIONS / "sdpa" / "correct_einsum.py").read_text()
    nb = _notebook(tmp_path / "black.ipynb", [
        ("code", ["import numpy as np\n",
                  "def wrap(i, n):\n",
                  '    """Usage:\n',
                  "    %timeit wrap(3, 2)\n",
                  '    """\n',
                  "    return (i\n",
                  "            % n)\n",
                  "nonzero = (np.arange(3)\n",
                  "           != 0)\n",
                  "total = 1 + \\\n",
                  "    2\n",
                  "x = 1  # a comment that ends in a backslash \\\n",
                  "%timeit wrap(3, 2)\n",
                  "assert wrap(7, 3) == 1 and nonzero.tolist() == [False, True, True] and total == 3\n"]),
        ("code", code_text.splitlines(True)),
    ])
    text, skipped = code_of(nb)
    assert "            % n)" in text and "           != 0)" in text and "    %timeit wrap(3, 2)" in text
    assert skipped == 1 and "pass  # mhajudge: skipped an IPython line: %timeit wrap(3, 2)" in text
    code, out, err = run_cli("run", nb, "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == "accepted", out + err


def _logical_line_starts(source: str) -> list[bool]:
    """The oracle: for each line, whether Python's tokenizer finds it inside a statement
    begun on an earlier line."""
    import io
    import tokenize

    inside = [False] * (source.count("\n") + 2)
    first = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
            continue
        if first is None:
            first = tok.start[0]
        if tok.type == tokenize.NEWLINE:
            for line in range(first + 1, tok.start[0] + 1):
                inside[line - 1] = True
            first = None
    return inside


def test_continued_lines_are_found_as_pythons_tokenizer_finds_them():
    """Real code (the judge's own, the references, every collected solution, written by
    many hands): the notebook's line scanner agrees with the tokenizer on every line."""
    from mhajudge.notebook import _Statement

    files = sorted(p for top in ("mhajudge", "reference", "tests") for p in (ROOT / top).rglob("*.py"))
    assert len(files) > 100
    for path in files:
        source = path.read_text(encoding="utf-8")
        expected = _logical_line_starts(source)
        statement = _Statement()
        for number, line in enumerate(source.splitlines(), 1):
            assert statement.continued == expected[number - 1], (str(path), number, line)
            statement.read(line)


@pytest.mark.parametrize("text, why", [
    ("[" * 100_000, "nested too deeply"),
    (json.dumps({"cells": [{"cell_type": "code", "source": [1, 2]}]}), "not text"),
    (json.dumps({"cells": [{"cell_type": "code", "source": "x = 1\n" * 60_000}]}), "KiB of code"),
])
def test_a_hostile_notebook_is_a_clear_error(tmp_path, text, why):
    nb = tmp_path / "bad.ipynb"
    nb.write_text(text)
    code, out, err = run_cli("run", nb, "--problem", "sdpa")
    assert code == 2 and why in err and "internal error" not in err, out + err


def test_try_takes_a_notebook(tmp_path):
    import numpy as np

    nb = _notebook(tmp_path / "attempt.ipynb", [
        ("code", (SOLUTIONS / "sdpa" / "correct_einsum.py").read_text().splitlines(True))])
    np.savez(tmp_path / "a.npz", Q=np.eye(2)[None], K=np.eye(2)[None], V=np.eye(2)[None])
    code, out, err = run_cli("try", nb, "--problem", "sdpa", "--args", tmp_path / "a.npz")
    assert code == 0 and "ACCEPTED" in out, out + err


def test_save_failing_writes_the_inputs_of_a_failing_sample(tmp_path):
    import numpy as np

    code, out, err = run_cli("run", WRONG, "--save-failing", tmp_path / "saved")
    assert code == 1 and "np.load" in err
    (case_dir,) = (tmp_path / "saved").iterdir()
    arrays = {p.stem: np.load(p) for p in case_dir.glob("*.npy")}
    assert {"Q", "K", "V"} <= set(arrays) and arrays["Q"].ndim >= 2


def _wrong_files():
    """Per problem, its solution files that are wrong answers (from their headers)."""
    out = {}
    for folder in sorted(SOLUTIONS.iterdir()):
        for f in sorted(folder.glob("*.py")):
            if "# expect-verdict: wrong-answer" in f.read_text():
                out.setdefault(folder.name, []).append(f)
    return out


@pytest.mark.parametrize("problem", sorted(_wrong_files()))
def test_every_failing_sample_shows_inputs_expected_and_got(problem):
    """Whatever the program (one call, steps of a KV cache, a custom check), a
    failing sample case is shown whole: each input by name, then expected and got."""
    for f in _wrong_files()[problem]:
        code, out, _ = run_cli("run", f, "--samples", "--format", "json", "--no-record")
        report = json.loads(out)
        failing = [c for c in report["cases"] if c["verdict"] == "wrong-answer"]
        if failing:
            break
    else:
        pytest.skip(f"no wrong {problem} file fails a sample case")
    code, out, _ = run_cli("run", f, "--samples", "--no-record", env={"COLUMNS": "100"})
    assert code == 1
    assert f"Failing sample case: {failing[0]['name']}" in out
    shown = out.split(f"Failing sample case: {failing[0]['name']}")[1]
    assert "got " in shown and " = " in shown
    assert "expected" in shown  # a value, an exception, or what a statistical check says


GENERATE_ARGS = """
import numpy as np
rng = np.random.default_rng(0)
V, E = 8, 4
prompt = np.array([1, 2])
params = {k: rng.standard_normal(shape) for k, shape in {
    "embed": (V, E), "pos": (10, E), "W_q": (E, E), "W_k": (E, E), "W_v": (E, E), "W_o": (E, E),
    "ln1_gamma": (E,), "ln1_beta": (E,), "lnf_gamma": (E,), "lnf_beta": (E,), "lm_head": (E, V)}.items()}
num_heads, max_new_tokens = 2, 4
"""


def test_try_takes_a_dict_of_arrays_from_a_py_or_an_npz(tmp_path):
    """generate's params: a dict in the .py, params/KEY entries in the .npz (both once failed:
    an object array cannot cross allow_pickle=False)."""
    args_py = tmp_path / "gen_args.py"
    args_py.write_text(GENERATE_ARGS)
    solution = SOLUTIONS / "generate" / "correct_concat.py"
    code, out, err = run_cli("try", solution, "--problem", "generate", "--args", args_py, env={"COLUMNS": "200"})
    assert code == 0 and "ACCEPTED" in out and "params = {embed: (8, 4), pos: (10, 4)" in out, out + err
    found = {}
    exec(GENERATE_ARGS, found)
    npz = tmp_path / "gen.npz"
    np.savez(npz, prompt=found["prompt"], num_heads=2, max_new_tokens=4,
             **{f"params/{k}": v for k, v in found["params"].items()})
    code, out2, err = run_cli("try", solution, "--problem", "generate", "--args", npz, env={"COLUMNS": "200"})
    assert code == 0 and out2.split("reference tokens")[1] == out.split("reference tokens")[1], out2 + err


def test_try_gives_beam_search_the_judges_model_from_its_arrays(tmp_path):
    args = tmp_path / "beam_args.py"
    args.write_text("bos, eos, beam_width, max_len = 0, 1, 2, 4\n")
    code, out, err = run_cli("try", SOLUTIONS / "beam-search" / "correct_heap.py", "--problem", "beam-search",
                             "--args", args, env={"COLUMNS": "300"})
    assert code == 2 and "does not set step" in err and "step = dict(embed=(5, 3), W_h=(3, 3)" in err, err
    args.write_text("import numpy as np\nrng = np.random.default_rng(0)\n"
                    "step = dict(embed=rng.standard_normal((5, 3)), W_h=rng.standard_normal((3, 3)) / 3,\n"
                    "            W_out=rng.standard_normal((3, 5)), bias=rng.standard_normal(5))\n"
                    "bos, eos, beam_width, max_len = 0, 1, 2, 4\n")
    code, out, err = run_cli("try", SOLUTIONS / "beam-search" / "correct_heap.py", "--problem", "beam-search",
                             "--args", args, env={"COLUMNS": "200"})
    assert code == 0 and "ACCEPTED" in out and "step = the judge's recurrent model: embed (5, 3)" in out, out + err
    code, out, err = run_cli("try", SOLUTIONS / "beam-search" / "hostile_step_tamper.py", "--problem", "beam-search",
                             "--args", args, env={"COLUMNS": "200"})
    assert code == 1 and "WRONG-ANSWER" in out, out + err


@pytest.mark.parametrize("text, words", [
    ("def step(prefixes):\n    return None\nbos, eos, beam_width, max_len = 0, 1, 2, 4\n", "step is a function"),
    ("step = ['a', 'b']\nbos, eos, beam_width, max_len = 0, 1, 2, 4\n", "not an array of numbers"),
])
def test_try_says_what_cannot_be_an_argument(tmp_path, text, words):
    args = tmp_path / "bad_args.py"
    args.write_text(text)
    code, out, err = run_cli("try", SOLUTIONS / "beam-search" / "correct_heap.py", "--problem", "beam-search",
                             "--args", args, env={"COLUMNS": "200"})
    assert code == 2 and words in err and "mhajudge-try-" not in err, err   # never the judge's temporary file


KT = '''import numpy as np
def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ K.T / np.sqrt(Q.shape[-1])
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return w @ V, w
'''


@pytest.mark.parametrize("how", ["notebook", "isolated"])
def test_a_runtime_error_quotes_the_line_that_raised(tmp_path, how):
    """The line's code was blank where the file is not in the child's view (isolated, a
    notebook's cells, --watch): tracebacks now quote the source the child was given; and
    the table, which cuts long messages, is followed by the error in full."""
    import shutil

    if how == "isolated" and shutil.which("bwrap") is None:
        pytest.skip("needs bubblewrap")
    if how == "notebook":
        path, extra = _notebook(tmp_path / "kt.ipynb", [("markdown", "# try"), ("code", KT)]), []
    else:
        path, extra = tmp_path / "kt.py", ["--isolate"]
        path.write_text(KT)
    code, out, err = run_cli("run", path, "--problem", "sdpa", "--format", "json", *extra)
    messages = [c["message"] for c in json.loads(out)["cases"] if c["verdict"] == "runtime-error"]
    assert code == 1 and messages and all("s = Q @ K.T" in m for m in messages), messages
    code, out, err = run_cli("run", path, "--problem", "sdpa", *extra, env={"COLUMNS": "100"})
    import re

    assert "error (case" in out and "s = Q @ K.T" in re.sub(r"\s+", " ", out), out


def test_a_syntax_error_without_a_header_is_judged_where_its_defs_name_the_problem(tmp_path):
    """A stranger's file, no header, a missing colon: the def line still names sdpa, so it
    is a load-error saying where (not exit 2 hiding the line)."""
    f = tmp_path / "syn.py"
    f.write_text("import numpy as np\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
                 "    if mask is not None\n        pass\n    return Q, Q\n")
    code, out, err = run_cli("run", f, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "load-error" and "line 3" in json.dumps(report), out + err
    g = tmp_path / "nodefs.py"
    g.write_text("import numpy as np\ndef f(:\n    pass\n")
    code, _, err = run_cli("run", g)
    assert code == 2 and "SyntaxError at line 2" in err, err


def test_a_non_utf8_comment_is_a_load_error_as_python_says(tmp_path):
    """`python FILE` refuses a Latin-1 byte anywhere without a coding line; compile() let a
    comment's pass, so such a file was accepted. With a coding line it is fine."""
    body = b"import numpy as np\ndef softmax(x, axis=-1):\n    e = np.exp(x - x.max(axis, keepdims=True))\n" \
           b"    return e / e.sum(axis, keepdims=True)\n"
    bad = tmp_path / "latin1.py"
    bad.write_bytes(b"# caf\xe9\n" + body)
    code, out, _ = run_cli("run", bad, "--problem", "softmax", "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "load-error" and "Non-UTF-8" in json.dumps(report)
    good = tmp_path / "declared.py"
    good.write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + body)
    code, out, _ = run_cli("run", good, "--problem", "softmax", "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == "accepted"


def test_new_writes_a_real_notebook_for_an_ipynb_path(tmp_path):
    nb = tmp_path / "week1" / "attempt.ipynb"
    code, _, err = run_cli("new", "sdpa", nb)
    assert code == 0, err
    data = json.loads(nb.read_text())
    assert data["nbformat"] == 4 and [c["cell_type"] for c in data["cells"]] == ["code"]
    assert "def scaled_dot_product_attention" in "".join(data["cells"][0]["source"])
    code, out, err = run_cli("run", nb, "--format", "json")  # the starter raises NotImplementedError
    assert code == 1 and json.loads(out)["problem"] == "sdpa", err
    code, _, err = run_cli("new", "sdpa", tmp_path / "notes.txt")
    assert code == 2 and ".ipynb" in err and not (tmp_path / "notes.txt").exists()


@pytest.mark.parametrize("columns", [80, 40])
def test_list_is_readable_at_narrow_widths(columns):
    """A stranger at 80 columns saw 'FlashAttentio n' and 116 lines (tags took the room of
    titles); at 40, a character per line. Now no word is broken and no line is too long."""
    from mhajudge import bank

    code, out, _ = run_cli("list", env={"COLUMNS": str(columns)})
    lines = out.splitlines()
    assert code == 0 and max(len(line) for line in lines) <= columns
    words = {w.strip(",():") for p in bank.load_all() for w in p.title.split()}
    cells = " ".join(part.strip() for line in lines for part in line.strip("│┃ ").split("│"))
    for w in words:
        if len(w) > 3:
            assert w in cells, w  # whole, on one line
    assert len(lines) < 4 * len(bank.problem_ids()) + 8


def test_a_failing_notebook_cell_is_named_by_its_cell(tmp_path):
    """A scratch cell that raises fails the load: the message names the notebook's cell and
    its line, not a line of the joined code, and a note says why one cell sinks it."""
    nb = _notebook(tmp_path / "scratch.ipynb", [
        ("markdown", "# attempt"),
        ("code", (SOLUTIONS / "sdpa" / "correct_einsum.py").read_text()),
        ("markdown", "a test"),
        ("code", "x = 1\nraise ValueError('oops test cell')\n"),
    ])
    code, out, _ = run_cli("run", nb, "--format", "json")
    report = json.loads(out)
    assert code == 1 and report["verdict"] == "load-error"
    assert "(cell 4, line 2: raise ValueError" in report["cases"][0]["message"], report["cases"][0]["message"]
    assert any("Run All" in n for n in report["notes"])


def test_the_printed_panel_shows_the_first_and_last_lines_of_each_stream(tmp_path):
    """A stranger's debug prints: labelled, the first lines and the last (where a traceback
    is), how many were left out, and shown on an accepted file too; printing is named as
    the reason it is slow."""
    f = tmp_path / "loud.py"
    f.write_text("import numpy as np\nprint('module loaded')\n"
                 "def softmax(x, axis=-1):\n    for i in range(300):\n        print('debug', i)\n"
                 "    e = np.exp(x - x.max(axis, keepdims=True))\n    return e / e.sum(axis, keepdims=True)\n")
    code, out, err = run_cli("run", f, "--problem", "softmax", env={"COLUMNS": "100"})
    assert code == 0 and "your program printed" in out, out + err
    assert "stdout (" in out and "module loaded" in out and "debug 299" in out and "lines not shown" in out
    from mhajudge.sandbox.runner import _Capture
    import io

    cap = _Capture(io.BytesIO(b"x" * 100_000 + b"\nTraceback: the real error\n"), 1000)
    cap.run()
    text = cap.text()
    assert text.startswith("x") and text.rstrip().endswith("the real error") and "bytes not kept" in text


def test_small_things_a_stranger_asked_for(tmp_path):
    """--case suggests the nearest name; --problem against the file's header is said; the
    speed line says faster or slower."""
    code, _, err = run_cli("run", WRONG, "--case", "fuly masked")
    assert code == 2 and "did you mean 'fully masked row'?" in err, err
    code, out, _ = run_cli("run", ROOT / "examples" / "sdpa_correct.py", "--problem", "softmax", "--format", "json")
    assert any("header says sdpa" in n for n in json.loads(out)["notes"])
    code, out, _ = run_cli("run", ROOT / "examples" / "sdpa_correct.py", env={"COLUMNS": "200"})
    assert code == 0 and "x the reference's time" in out


def test_a_message_cannot_pass_for_a_line_of_the_judge(tmp_path):
    """A raised message holding newlines: its lines after the first are indented, so
    none starts a line as the judge's verdict line does."""
    f = tmp_path / "spoof.py"
    f.write_text("def scaled_dot_product_attention(Q, K, V, mask=None):\n"
                 "    raise ValueError('x' * 150 + '\\r\\nACCEPTED  18/18 cases passed\\nACCEPTED')\n")
    args = tmp_path / "a.py"
    args.write_text("import numpy as np\nQ = K = V = np.ones((1, 2, 2))\n")
    for cmd in (["run", f, "--problem", "sdpa"], ["try", f, "--problem", "sdpa", "--args", args]):
        code, out, err = run_cli(*cmd, env={"COLUMNS": "100"})
        assert code == 1, out + err
        assert not [line for line in out.splitlines() if line.startswith("ACCEPTED")], out
        assert "\r" not in out
