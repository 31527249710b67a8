"""What a stranger met on a first afternoon with the CLI (a review of 2026-12-03), through
the real CLI: each message says what is so, and what to do."""

import json

from conftest import SOLUTIONS, run_cli, run_json


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_a_file_with_only_a_class_is_told_the_judge_calls_functions(tmp_path):
    only = tmp_path / "attention.py"
    only.write_text("class Attention:\n    def forward(self, Q, K, V, mask=None):\n        return Q, Q\n")
    code, _, err = run_cli("run", only, "--no-record")
    err = _one_line(err)
    assert code == 2 and "only the class(es) Attention" in err and "top-level functions" in err, err


def test_an_empty_file_is_said_to_be_empty(tmp_path):
    for text in ("", "# TODO\n\n   \n"):
        empty = tmp_path / "empty.py"
        empty.write_text(text)
        code, report = run_json("run", empty, "--problem", "sdpa", "--no-record")
        assert code == 1 and report["verdict"] == "load-error"
        message = report["cases"][0]["message"]
        assert message.startswith("the file is empty") and "def scaled_dot_product_attention(Q, K, V, mask=None)" \
            in message, message


def test_grade_given_a_file_says_run(tmp_path):
    one = tmp_path / "alice.py"
    one.write_text((SOLUTIONS / "sdpa" / "correct_einsum.py").read_text())
    code, _, err = run_cli("grade", one, "-p", "sdpa")
    err = _one_line(err)
    assert code == 2 and "is a file" in err and f"mhajudge run {one}" in err, err


def test_practice_with_bad_minutes_writes_no_file(tmp_path):
    code, _, err = run_cli("practice", "sdpa", "--minutes", "-5", cwd=tmp_path)
    assert code == 2 and "--minutes must be positive" in err, err
    assert list(tmp_path.iterdir()) == [], list(tmp_path.iterdir())


def test_the_case_hint_quotes_names_that_hold_commas():
    code, _, err = run_cli("run", SOLUTIONS / "sdpa" / "correct_einsum.py", "--case", "nope", "--no-record")
    err = _one_line(err)
    assert code == 2 and "'two queries, three keys'; " in err, err


def test_messages_read_as_english(tmp_path):
    an_int = tmp_path / "an_int.py"
    an_int.write_text("scaled_dot_product_attention = 3\n")
    _, report = run_json("run", an_int, "--problem", "sdpa", "--no-record")
    assert "is an int, not a function" in report["cases"][0]["message"], report["cases"][0]
    bare = tmp_path / "bare.py"  # `raise NotImplementedError` has no text: no ':' and two spaces after it
    bare.write_text("def scaled_dot_product_attention(Q, K, V, mask=None):\n    raise NotImplementedError\n")
    _, report = run_json("run", bare, "--problem", "sdpa", "--no-record")
    message = report["cases"][0]["message"]
    assert message.startswith("NotImplementedError (line 2") and "  " not in message, message
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.py").write_text((SOLUTIONS / "sdpa" / "correct_einsum.py").read_text())
    code, out, err = run_cli("grade", tmp_path / "subs", "-p", "sdpa", "--format", "html", "--no-isolate")
    assert code == 0 and "<title>mhajudge: sdpa (1 submission)</title>" in out, err
    code, out, _ = run_cli("grade", tmp_path / "subs", "-p", "sdpa", "--format", "json", "--no-isolate")
    assert json.loads(out)["submissions"][0]["verdict"] == "accepted"
