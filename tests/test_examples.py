"""The shipped examples get the verdicts the README promises."""

from conftest import ROOT, run_cli, run_json


def test_correct_example_is_accepted():
    code, report = run_json("run", ROOT / "examples" / "sdpa_correct.py")
    assert code == 0 and report["verdict"] == "accepted" and report["passed"] == report["total"]


def test_wrong_example_is_rejected_and_diagnosed():
    code, out, err = run_cli("run", ROOT / "examples" / "sdpa_wrong.py")
    assert code == 1
    assert "WRONG-ANSWER" in out and "diagnosis: no-scale" in out
