"""Every solution file under reference/solutions/<problem>/ is judged through the real CLI.

Each file states what it must get in header comments:

    # mhajudge: sdpa
    # expect-verdict: wrong-answer
    # expect-diagnosis: no-scale        (optional; several allowed, space-separated)
    # expect-explains: no-scale          (optional: these diagnoses explain only some of
                                          the failing cases, so they carry "explains")

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


def partial_ones(path):
    """The diagnoses that must carry ``explains`` (``# expect-explains:``); the others must not."""
    found = re.search(r"^# expect-explains:\s*(.+)$", path.read_text(), re.M)
    return set(found.group(1).split()) if found else set()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(SOLUTIONS)) for p in FILES])
def test_solution_gets_its_verdict(path):
    verdict, diagnoses = expectations(path)
    code, report = run_json("run", path)
    assert report["verdict"] == verdict, report
    assert code == (0 if verdict == "accepted" else 1)
    got = {d["id"] for d in report["diagnoses"]}
    assert got == diagnoses, f"diagnoses {got}, expected {diagnoses}: {report['cases']}"
    failing = {c["name"] for c in report["cases"] if c["verdict"] != "accepted"}
    for d in report["diagnoses"]:
        if d["id"] in partial_ones(path):
            assert d.get("explains"), d
            assert set(d["explains"]) < failing, (d, failing)   # some of the failing cases, not all
            assert f"explains {len(d['explains'])} of {len(failing)} failing cases" in d["message"]
        else:
            assert "explains" not in d, d
