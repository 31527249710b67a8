"""Every reference solution is accepted through the real CLI, and every spec is valid."""

import pytest

from conftest import ROOT, run_json
from mhajudge import bank

IDS = bank.problem_ids()


@pytest.mark.parametrize("problem_id", IDS)
def test_reference_accepted(problem_id):
    problem = bank.load_problem(problem_id)
    path = ROOT / "reference" / f"{problem.reference}.py"
    code, report = run_json("run", path, "--problem", problem_id)
    assert report["verdict"] == "accepted", [c for c in report["cases"] if c["verdict"] != "accepted"]
    assert code == 0
    assert report["passed"] == report["total"] >= 12
    assert sum(c["group"] == "hidden" for c in report["cases"]) >= 12
    assert report["diagnoses"] == []
