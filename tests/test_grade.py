"""`mhajudge grade` and `merge` on a folder of mixed submissions, every format checked."""

import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from conftest import SOLUTIONS, run_cli

CONTRACT_RUN_KEYS = {"problem", "file", "verdict", "passed", "total", "cases", "diagnoses"}
CONTRACT_CASE_KEYS = {"name", "group", "verdict", "max_abs_error", "time_s", "message"}
VERDICTS = {"accepted", "wrong-answer", "runtime-error", "time-limit", "memory-limit", "load-error", "forbidden"}

HANG = """# mhajudge: sdpa
def scaled_dot_product_attention(Q, K, V, mask=None):
    while True:
        pass
"""
CRASH = """# mhajudge: sdpa
def scaled_dot_product_attention(Q, K, V, mask=None):
    raise RuntimeError("boom")
"""

EXPECTED = {
    "alice": "accepted",            # a folder holding one file
    "bob.py": "wrong-answer",
    "carol.py": "load-error",       # syntax error
    "dave.py": "runtime-error",
    "erin.py": "time-limit",
    "frank": "load-error",          # a folder with two candidates and no way to choose
}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    d = tmp_path_factory.mktemp("subs")
    (d / "alice").mkdir()
    shutil.copy(SOLUTIONS / "sdpa" / "correct_einsum.py", d / "alice" / "attention.py")
    shutil.copy(SOLUTIONS / "sdpa" / "no_scale.py", d / "bob.py")
    (d / "carol.py").write_text("def scaled_dot_product_attention(Q, K, V, mask=None)\n    return Q\n")
    (d / "dave.py").write_text(CRASH)
    (d / "erin.py").write_text(HANG)
    (d / "frank").mkdir()
    (d / "frank" / "a.py").write_text("x = 1\n")
    (d / "frank" / "b.py").write_text("y = 2\n")
    return d


def grade(subs, *args):
    return run_cli("grade", subs, "--problem", "sdpa", "--time-limit", "0.5", *args)


@pytest.fixture(scope="module")
def graded(submissions):
    code, out, err = grade(submissions, "--format", "json", "--jobs", "2")
    assert code == 0, err
    return json.loads(out)


def test_every_submission_gets_its_row_in_path_order(graded):
    rows = graded["submissions"]
    assert graded["problem"] == "sdpa"
    assert [r["path"] for r in rows] == sorted(EXPECTED)
    assert {r["path"]: r["verdict"] for r in rows} == EXPECTED


def test_json_rows_follow_the_contract(graded):
    for row in graded["submissions"]:
        assert CONTRACT_RUN_KEYS <= set(row), row["path"]
        assert row["verdict"] in VERDICTS
        for case in row["cases"]:
            assert CONTRACT_CASE_KEYS <= set(case)
            assert case["group"] in ("sample", "hidden") and case["verdict"] in VERDICTS
    bob = next(r for r in graded["submissions"] if r["path"] == "bob.py")
    assert [d["id"] for d in bob["diagnoses"]] == ["no-scale"]
    assert bob["passed"] < bob["total"]


def test_hidden_cases_stay_hidden(graded):
    for row in graded["submissions"]:
        for case in row["cases"]:
            if case["group"] == "hidden" and case["verdict"] not in ("load-error", "forbidden"):
                assert case["message"] == "", case


def test_hanging_submission_gives_up_quickly(graded):
    erin = next(r for r in graded["submissions"] if r["path"] == "erin.py")
    assert all(c["verdict"] == "time-limit" for c in erin["cases"])
    assert erin["time_s"] < 10


def test_junit_is_valid_xml_with_the_right_counts(submissions, graded, tmp_path):
    out = tmp_path / "junit.xml"
    code, _, err = grade(submissions, "--format", "junit", "--output", out)
    assert code == 0, err
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == sorted(EXPECTED)
    for suite, row in zip(suites, graded["submissions"]):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases) == max(len(row["cases"]), 1)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("errors")) == len(suite.findall("testcase/error"))
        if row["verdict"] == "accepted":
            assert suite.get("failures") == suite.get("errors") == "0"
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites)


def test_gradescope_has_what_its_readers_need(submissions):
    code, out, err = grade(submissions, "--format", "gradescope")
    assert code == 0, err
    data = json.loads(out)
    alice = data["submissions"]["alice"]
    assert alice["score"] == pytest.approx(alice["max_score"]) and alice["max_score"] > 0
    for result in data["submissions"].values():
        assert {"score", "max_score", "tests", "output"} <= set(result)
        assert result["score"] == pytest.approx(sum(t["score"] for t in result["tests"]), abs=1e-3) or not result["tests"]
        for t in result["tests"]:
            assert {"name", "score", "max_score", "status"} <= set(t) and t["status"] in ("passed", "failed")
    bob = data["submissions"]["bob.py"]
    assert 0 < bob["score"] < bob["max_score"]


def test_csv_has_one_row_per_submission(submissions, tmp_path):
    path = tmp_path / "grades.csv"
    code, _, err = grade(submissions, "--format", "json", "--csv", path)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert {r["path"]: r["verdict"] for r in rows} == EXPECTED
    assert next(r for r in rows if r["path"] == "bob.py")["diagnoses"] == "no-scale"


def _strip_times(obj):
    if isinstance(obj, dict):
        return {k: _strip_times(v) for k, v in obj.items() if k not in ("time_s", "speed", "shard")}
    if isinstance(obj, list):
        return [_strip_times(v) for v in obj]
    return obj


def test_sharded_then_merged_equals_unsharded(submissions, graded, tmp_path):
    paths = []
    for k in (1, 2, 3):
        path = tmp_path / f"shard{k}.json"
        code, _, err = grade(submissions, "--format", "json", "--shard", f"{k}/3", "--output", path)
        assert code == 0, err
        paths.append(path)
    sizes = [len(json.loads(p.read_text())["submissions"]) for p in paths]
    assert sum(sizes) == len(EXPECTED)
    code, out, err = run_cli("merge", *paths)
    assert code == 0, err
    assert _strip_times(json.loads(out)) == _strip_times(graded)
    code, out, err = run_cli("merge", paths[0], paths[0])
    assert code == 2 and "given twice" in err
    # A missing artefact does not pass as the whole class; --partial says it is meant.
    code, out, err = run_cli("merge", paths[0], paths[2])
    assert code == 2 and "2/3 is missing" in err, err
    code, out, err = run_cli("merge", paths[0], paths[2], "--partial")
    assert code == 0 and len(json.loads(out)["submissions"]) == sizes[0] + sizes[2]
    # Shards of another run (another N), a report edited by hand: refused, saying which.
    other = json.loads(paths[1].read_text())
    other["shard"] = "2/4"
    (tmp_path / "other.json").write_text(json.dumps(other))
    code, _, err = run_cli("merge", paths[0], tmp_path / "other.json", paths[2])
    assert code == 2 and "different runs" in err
    tampered = json.loads(paths[1].read_text())
    wrong = next(r for r in tampered["submissions"] if r["verdict"] == "wrong-answer")
    wrong.update(verdict="accepted", score=1.0)
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    code, _, err = run_cli("merge", paths[0], tmp_path / "tampered.json", paths[2])
    assert code == 2 and "not a row grade wrote" in err and "Traceback" not in err, err
    wrong.update(verdict="accepted", score=1.0, passed=wrong["total"])  # counts edited too: the cases still say
    keep = next(i for i, c in enumerate(wrong["cases"]) if c["verdict"] != "accepted")  # one failing case stays
    wrong["cases"] = [c if i == keep else dict(c, verdict="accepted") for i, c in enumerate(wrong["cases"])]
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    code, _, err = run_cli("merge", paths[0], tmp_path / "tampered.json", paths[2])
    assert code == 2 and "not a row grade wrote" in err, err
    for bad in ({"path": ["x"]}, {"time_s": "soon"}, {"passed": "=HYPERLINK(\"http://e\")"}, {"verdict": None}):
        broken = json.loads(paths[1].read_text())
        broken["submissions"][0].update(bad)
        (tmp_path / "broken.json").write_text(json.dumps(broken))
        code, _, err = run_cli("merge", paths[0], tmp_path / "broken.json", paths[2], "--csv", tmp_path / "m.csv")
        assert code == 2 and "not a row grade wrote" in err and "internal error" not in err, (bad, err)
    broken = json.loads(paths[1].read_text())
    broken["submissions"] = ["not a row"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    code, _, err = run_cli("merge", paths[0], tmp_path / "broken.json", paths[2])
    assert code == 2 and "not an object" in err


def test_fail_under_and_bad_flags(submissions):
    code, _, err = grade(submissions, "--format", "json", "--fail-under", "0.5")
    assert code == 1 and "pass rate" in err
    code, _, _ = grade(submissions, "--format", "json", "--fail-under", "0.1")
    assert code == 0
    code, _, err = grade(submissions, "--shard", "4/3")
    assert code == 2 and "Traceback" not in err
    code, _, err = run_cli("grade", submissions / "nowhere", "--problem", "sdpa")
    assert code == 2 and "no such folder" in err


def test_a_submission_that_breaks_the_judge_still_gets_a_row(submissions, monkeypatch):
    from mhajudge import grading, judge
    from mhajudge.sandbox.runner import Limits

    real = judge.judge_file

    def breaks_on_bob(file, *args, **kwargs):
        if "bob" in str(file):
            raise RuntimeError("the worker crashed")
        return real(file, *args, **kwargs)

    monkeypatch.setattr(judge, "judge_file", breaks_on_bob)
    result = grading.grade(submissions, "sdpa", jobs=2, limits=Limits(case_time_s=0.5))
    rows = {r["path"]: r for r in result["submissions"]}
    assert sorted(rows) == sorted(EXPECTED)
    assert rows["bob.py"]["judge_error"] and "the worker crashed" in rows["bob.py"]["notes"][0]
    assert rows["alice"]["verdict"] == "accepted" and rows["erin.py"]["verdict"] == "time-limit"


def test_weighted_case_groups_set_the_score():
    from mhajudge import formats
    from mhajudge.results import CaseResult, Report

    r = Report("sdpa", "x.py", cases=[CaseResult("a", "hidden", "accepted", weight=3.0),
                                      CaseResult("b", "hidden", "wrong-answer", weight=1.0)])
    assert r.score == pytest.approx(0.75)
    run = r.to_json()
    assert run["cases"][0]["weight"] == 3.0 and "weight" not in run["cases"][1]
    gs = formats.gradescope(run)  # each case worth its weight
    assert gs["max_score"] == 4.0 and gs["score"] == pytest.approx(3.0)
    assert [t["max_score"] for t in gs["tests"]] == [3.0, 1.0]
    gs = formats.gradescope(run, max_score=100)  # --max-score rescales
    assert gs["score"] == pytest.approx(75.0) and [t["max_score"] for t in gs["tests"]] == [75.0, 25.0]


def test_grading_without_a_real_secret_is_said(tmp_path):
    """A stranger's CI: MHAJUDGE_SECRET= (a secret never configured) graded on the public
    default hidden cases, silently. It is now a warning, the report says whether a secret
    was used, and merge refuses to join shards judged with and without one."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SOLUTIONS / "sdpa" / "correct_einsum.py", subs / "a.py")
    shutil.copy(SOLUTIONS / "sdpa" / "no_scale.py", subs / "b.py")
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json", "--shard", "1/2",
                             env={"MHAJUDGE_SECRET": ""})
    assert code == 0 and "set but empty" in err and json.loads(out)["secret"] is False, err
    (tmp_path / "s1.json").write_text(out)
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json", "--shard", "2/2", env={"CI": "1"})
    assert code == 0 and "grading in CI without MHAJUDGE_SECRET" in err
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json", "--shard", "2/2",
                             env={"MHAJUDGE_SECRET": "a long random string"})
    assert code == 0 and "warning" not in err and json.loads(out)["secret"] is True
    (tmp_path / "s2.json").write_text(out)
    code, _, err = run_cli("merge", tmp_path / "s1.json", tmp_path / "s2.json")
    assert code == 2 and "with MHAJUDGE_SECRET and some without" in err


def test_merge_checks_a_score_against_its_cases_weights():
    """A review: with a case of weight 0 (a custom bank), real rows were refused ('a full
    score' on a wrong answer). The score is now checked against what the weights give."""
    from mhajudge.grading import _bad_row

    cases = [{"name": "a", "group": "sample", "verdict": "accepted"},
             {"name": "b", "group": "hidden", "verdict": "wrong-answer", "weight": 0.0}]
    row = {"path": "x.py", "verdict": "wrong-answer", "passed": 1, "total": 2, "score": 1.0, "cases": cases}
    assert _bad_row(row) == ""
    assert "not what its cases give" in _bad_row(dict(row, score=0.5))
    assert "not every case was" in _bad_row(dict(row, verdict="accepted"))
    assert _bad_row(dict(row, not_run=[{"name": "c", "group": "hidden"}], total=3, score=0.5)) == ""
    assert _bad_row(dict(row, verdict="accepted", passed=2, cases=[cases[0]],  # -x left one unrun
                         not_run=[{"name": "c", "group": "hidden"}])) != ""
