"""Broken and banned submissions get the right verdict through the real CLI."""

import textwrap

import pytest

from conftest import SDPA_CORRECT, run_cli, run_json

GOOD_BODY = SDPA_CORRECT


def write(tmp_path, body, name="sol.py"):
    path = tmp_path / name
    path.write_text("# mhajudge: sdpa\nimport numpy as np\n" + textwrap.dedent(body))
    return path


def test_syntax_error_is_load_error_with_line(tmp_path):
    path = write(tmp_path, "def scaled_dot_product_attention(Q, K, V, mask=None)\n    return Q\n")
    code, report = run_json("run", path)
    assert code == 1 and report["verdict"] == "load-error"
    assert "line 3" in report["cases"][0]["message"]


def test_missing_entry_point_names_the_signature(tmp_path):
    path = write(tmp_path, "def attention(Q, K, V):\n    return Q\n")
    code, report = run_json("run", path)
    assert report["verdict"] == "load-error"
    assert "scaled_dot_product_attention(Q, K, V, mask=None)" in report["cases"][0]["message"]


def test_wrong_parameter_count_is_load_error(tmp_path):
    path = write(tmp_path, "def scaled_dot_product_attention(Q, K, V):\n    return Q, Q\n")
    code, report = run_json("run", path)
    assert report["verdict"] == "load-error"
    assert "expected signature" in report["cases"][0]["message"]


def test_infinite_loop_is_time_limit(tmp_path):
    path = write(tmp_path, GOOD_BODY + "\n_real = scaled_dot_product_attention\n"
                 "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
                 "    if Q.ndim == 4:\n        while True:\n            pass\n"
                 "    return _real(Q, K, V, mask)\n")
    code, report = run_json("run", path)
    assert report["verdict"] == "time-limit"
    looped = [c for c in report["cases"] if c["verdict"] == "time-limit"]
    assert [c["name"] for c in looped] == ["two batch dimensions"]
    assert sum(c["verdict"] == "accepted" for c in report["cases"]) == report["total"] - 1


@pytest.mark.parametrize("line", [
    "# mhajudge: sdpa numpy\nimport torch",  # without the header, torch puts the file on the torch track
    "from scipy.special import softmax",
    "import mhajudge",
    "import importlib\nm = importlib.import_module('mha' + 'judge')",
])
def test_banned_import_is_forbidden(tmp_path, line):
    path = write(tmp_path, line + "\n" + GOOD_BODY)
    code, report = run_json("run", path)
    assert code == 1 and report["verdict"] == "forbidden", report["cases"][0]


def test_banned_import_inside_function_is_forbidden(tmp_path):
    body = GOOD_BODY.replace("    s = Q @", "    __import__('tor' + 'ch')\n    s = Q @")
    path = write(tmp_path, body)
    code, report = run_json("run", path)
    assert report["verdict"] == "forbidden"


def test_exception_is_runtime_error_with_line(tmp_path):
    path = write(tmp_path, "def scaled_dot_product_attention(Q, K, V, mask=None):\n    return 1 / 0\n")
    code, report = run_json("run", path)
    assert report["verdict"] == "runtime-error"
    assert "ZeroDivisionError" in report["cases"][0]["message"] and "line 4" in report["cases"][0]["message"]


@pytest.mark.parametrize("ret,words", [
    ("None", "None"),
    ("'accepted'", "got a str"),
    ("[[1, 2], [3]], Q", "numeric array"),
    ("Q", "tuple"),
])
def test_malformed_answers_are_wrong_answer(tmp_path, ret, words):
    path = write(tmp_path, f"def scaled_dot_product_attention(Q, K, V, mask=None):\n    return {ret}\n")
    code, report = run_json("run", path)
    assert report["verdict"] == "wrong-answer"
    assert words in report["cases"][0]["message"]


def test_secret_is_not_visible_to_the_candidate(tmp_path):
    path = write(tmp_path, GOOD_BODY + "\nimport os\nassert 'MHAJUDGE_SECRET' not in os.environ\n")
    code, report = run_json("run", path, env={"MHAJUDGE_SECRET": "s3cret"})
    assert report["verdict"] == "accepted", report["cases"][0]


def test_secret_changes_hidden_cases(tmp_path):
    from mhajudge import bank
    from mhajudge.cases import build

    problem = bank.load_problem("sdpa")
    plain = build(problem, secret="")
    secret = build(problem, secret="abc")
    hidden = [i for i, c in enumerate(plain) if c.group == "hidden"]
    assert all((plain[i].args["Q"] != secret[i].args["Q"]).any() for i in hidden)
    samples = [i for i, c in enumerate(plain) if c.group == "sample"]
    assert all((plain[i].args["Q"] == secret[i].args["Q"]).all() for i in samples)


def test_judge_errors_exit_2_without_traceback(tmp_path):
    code, out, err = run_cli("run", tmp_path / "missing.py")
    assert code == 2 and "Traceback" not in err and "no such file" in err
    code, out, err = run_cli("run", write(tmp_path, GOOD_BODY), "--problem", "nope")
    assert code == 2 and "unknown problem" in err and "Traceback" not in err


def test_the_child_starts_from_its_compiled_code(tmp_path):
    """The child is started by runner.boot, which runs its script as __main__ from the
    compiled file (Python compiles a script named on its command line on every start),
    with the arguments after it as sys.argv[1:]; once the source changes, the source runs."""
    import py_compile
    import subprocess
    import sys

    from mhajudge.sandbox.runner import boot

    script = tmp_path / "script.py"
    script.write_text("import sys\nif __name__ == '__main__':\n    print('main', sys.argv[1:])\n")
    py_compile.compile(str(script), doraise=True)
    proc = subprocess.run([sys.executable, "-I", "-B", "-v", "-c", boot(str(script)), "3", "x y"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "main ['3', 'x y']"
    assert f"code object from '{tmp_path}/__pycache__/script." in proc.stderr
    script.write_text("import sys\nif __name__ == '__main__':\n    print('changed', sys.argv[1:])\n")
    proc = subprocess.run([sys.executable, "-I", "-B", "-c", boot(str(script)), "3"], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip() == "changed ['3']", proc.stderr[-2000:]


def test_the_problem_is_told_from_the_functions_when_one_problem_fits_best(tmp_path):
    """CLI.md: the problem comes from the function names when that is unambiguous. A file
    with mha-qkv's three functions was refused as "any of mha-batched, mha-qkv", though
    only mha-qkv has all three; one multi_head_attention(Q, K, V, n_heads) is mha-batched;
    a multi_head_attention whose parameters fit no problem stays ambiguous (exit 2)."""
    from conftest import run_cli

    three = tmp_path / "qkv.py"
    three.write_text("import numpy as np\n\ndef compute_qkv(X, W_q, W_k, W_v):\n    return X @ W_q, X @ W_k, X @ W_v\n\n"
                     "def self_attention(Q, K, V):\n    return Q\n\n"
                     "def multi_head_attention(Q, K, V, n_heads):\n    return Q\n")
    code, report = run_json("run", three, "--no-record")
    assert report["problem"] == "mha-qkv", report
    one = tmp_path / "batched.py"
    one.write_text("import numpy as np\n\ndef multi_head_attention(Q, K, V, n_heads):\n    return Q\n")
    code, report = run_json("run", one, "--no-record")
    assert report["problem"] == "mha-batched", report
    odd = tmp_path / "odd.py"
    odd.write_text("import numpy as np\n\ndef multi_head_attention(a, b, c):\n    return a\n")
    code, out, err = run_cli("run", odd, "--no-record")
    assert code == 2 and "could be any of" in err and "mha-batched" in err and "mha-projected" in err, err
