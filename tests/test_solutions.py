"""Every solution file under reference/solutions/<problem>/ is judged through the real CLI.

Each file states what it must get in header comments:

    # mhajudge: sdpa
    # expect-verdict: wrong-answer
    # expect-diagnosis: no-scale        (optional; several allowed, space-separated)

A file without ``expect-diagnosis`` must get no diagnosis at all, so a correct
solution written another way (loops, einsum, -1e9 fill) is never "diagnosed".
"""

import re

import pytest

from conftest import SOLUTIONS, run_json

FILES = sorted(SOLUTIONS.rglob("*.py"))


def expectations(path):
    text = path.read_text()
    verdict = re.search(r"^# expect-verdict:\s*(\S+)", text, re.M)
    diag = re.search(r"^# expect-diagnosis:\s*(.+)$", text, re.M)
    assert verdict, f"{path} has no '# expect-verdict:' line"
    return verdict.group(1), set(diag.group(1).split()) if diag else set()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SOLUTIONS)) for p in FILES])
def test_solution_gets_its_verdict(path):
    verdict, diagnoses = expectations(path)
    code, report = run_json("run", path)
    assert report["verdict"] == verdict, report
    assert code == (0 if verdict == "accepted" else 1)
    got = {d["id"] for d in report["diagnoses"]}
    assert got == diagnoses, f"diagnoses {got}, expected {diagnoses}: {report['cases']}"
