"""What course staff and hiring teams read: Gradescope done right, JUnit a CI reporter
can parse (and a schema accepts), CSV with reasons, and a misconfigured run that
fails at once. Through the real CLI."""

import csv
import io
import json
import os
import shutil
import subprocess
import time

import pytest
import yaml

from conftest import ROOT, SOLUTIONS, run_cli

CORRECT = (SOLUTIONS / "sdpa" / "correct_einsum.py").read_text()
NO_SCALE = (SOLUTIONS / "sdpa" / "no_scale.py").read_text()


@pytest.fixture(scope="module")
def subs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("subs")
    (folder / "frank.py").write_text(CORRECT)
    (folder / "bob.py").write_text(NO_SCALE)
    (folder / "cheat.py").write_text("# mhajudge: sdpa numpy\nimport torch\n")  # kept on the NumPy track
    (folder / "broken.py").write_text("# mhajudge: sdpa\ndef scaled_dot_product_attention(Q, K, V, mask=None)\n")
    return folder


def test_gradescope_hides_hidden_cases_and_scores_by_weight(tmp_path):
    sol = tmp_path / "bob.py"
    sol.write_text(NO_SCALE)
    code, out, err = run_cli("run", sol, "--format", "gradescope")
    assert code == 1, err
    result = json.loads(out)
    tests = result["tests"]
    assert {t["visibility"] for t in tests if t["name"].startswith("[hidden]")} == {"after_published"}
    assert {t["visibility"] for t in tests if t["name"].startswith("[sample]")} == {"visible"}
    hidden = [t for t in tests if t["name"].startswith("[hidden]")]
    assert all("expected" not in t["output"] and "got" not in t["output"] for t in hidden), hidden[0]
    assert all("largest error" in t["output"] for t in hidden if t["status"] == "failed")
    assert result["max_score"] == len(tests)  # one point per case by default
    code, out, _ = run_cli("run", sol, "--format", "gradescope", "--max-score", "10", "--visibility", "hidden")
    result = json.loads(out)
    assert result["max_score"] == 10 and abs(sum(t["max_score"] for t in result["tests"]) - 10) < 1e-3
    assert {t["visibility"] for t in result["tests"] if t["name"].startswith("[hidden]")} == {"hidden"}
    code, out, err = run_cli("run", sol, "--format", "gradescope", "--visibility", "sometimes")
    assert code == 2 and "after_published" in err


def test_gradescope_max_score_reflects_group_weights(tmp_path):
    bank = tmp_path / "bank"
    for part in ("problems", "reference"):
        shutil.copytree(ROOT / part, bank / part, ignore=shutil.ignore_patterns("__pycache__"))
    spec = yaml.safe_load((bank / "problems" / "sdpa.yaml").read_text())
    for g in spec["hidden"]:
        g["weight"] = 3.0
    (bank / "problems" / "sdpa.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    sol = tmp_path / "frank.py"
    sol.write_text(CORRECT)
    code, out, err = run_cli("run", sol, "--format", "gradescope", env={"MHAJUDGE_BANK": str(bank)})
    assert code == 0, err
    result = json.loads(out)
    samples = [t for t in result["tests"] if t["name"].startswith("[sample]")]
    hidden = [t for t in result["tests"] if t["name"].startswith("[hidden]")]
    assert result["max_score"] == len(samples) + 3 * len(hidden) == result["score"]
    assert {t["max_score"] for t in hidden} == {3.0}


def test_grade_gradescope_writes_one_results_json_per_submission(subs, tmp_path):
    out = tmp_path / "results"
    code, _, err = run_cli("grade", subs, "--problem", "sdpa", "--format", "gradescope", "-o", out)
    assert code == 0, err
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("results.json"))
    assert written == ["bob.py/results.json", "broken.py/results.json", "cheat.py/results.json", "frank.py/results.json"]
    frank = json.loads((out / "frank.py" / "results.json").read_text())
    assert frank["score"] == frank["max_score"] > 0


def test_run_autograder_the_way_gradescope_runs_it(tmp_path):
    script = ROOT / "examples" / "gradescope" / "run_autograder"
    env = {k: v for k, v in os.environ.items() if k != "MHAJUDGE_SECRET"}
    env["PATH"] = os.path.dirname(os.sys.executable) + os.pathsep + env["PATH"]  # where `mhajudge` is installed
    for name, source, full in (("good", CORRECT, True), ("bad", NO_SCALE, False)):
        submission, results = tmp_path / name / "submission", tmp_path / name / "results"
        submission.mkdir(parents=True)
        (submission / "attention.py").write_text(source)
        proc = subprocess.run(["bash", str(script)], env={**env, "SUBMISSION_DIR": str(submission),
                                                          "RESULTS_DIR": str(results), "PROBLEM": "sdpa",
                                                          "MHAJUDGE_SECRET": "course-secret"},
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        result = json.loads((results / "results.json").read_text())
        assert (result["score"] == result["max_score"]) == full, result["output"]
        assert not any("expected" in t["output"] for t in result["tests"] if t["visibility"] != "visible")
    two = tmp_path / "two" / "submission"
    two.mkdir(parents=True)
    (two / "a.py").write_text(CORRECT)
    (two / "b.py").write_text(CORRECT)
    subprocess.run(["bash", str(script)], env={**env, "SUBMISSION_DIR": str(two), "RESULTS_DIR": str(tmp_path / "r2")},
                   check=True, timeout=120)
    result = json.loads((tmp_path / "r2" / "results.json").read_text())
    assert result["score"] == 0 and "Submit one .py file" in result["output"]
    from mhajudge.notebook import notebook_of  # a student who submitted their notebook

    nb = tmp_path / "nb" / "submission"
    nb.mkdir(parents=True)
    (nb / "attempt.ipynb").write_text(notebook_of(CORRECT))
    subprocess.run(["bash", str(script)], env={**env, "SUBMISSION_DIR": str(nb), "RESULTS_DIR": str(tmp_path / "r3"),
                                               "PROBLEM": "sdpa"}, check=True, timeout=120)
    result = json.loads((tmp_path / "r3" / "results.json").read_text())
    assert result["score"] == result["max_score"] > 0, result["output"]


def test_grade_judges_notebooks_and_gives_every_meant_entry_a_row(tmp_path):
    """A stranger's class: a notebook vanished from every format ('22 submissions' of 23),
    and one in a folder was 'holds no .py file'. A .py beside a scratch notebook is still
    the one judged; bob.PY is meant as one and gets a row saying what to do."""
    from mhajudge.notebook import notebook_of

    subs = tmp_path / "subs"
    (subs / "dave").mkdir(parents=True)
    (subs / "frank").mkdir()
    (subs / "alice.py").write_text(CORRECT)
    (subs / "bob.PY").write_text(CORRECT)
    (subs / "carol.ipynb").write_text(notebook_of(CORRECT))
    (subs / "dave" / "work.ipynb").write_text(notebook_of("%%time\n" + NO_SCALE))
    (subs / "erin.ipynb").write_text("{not json")
    (subs / "frank" / "solution.py").write_text(CORRECT)
    (subs / "frank" / "scratch.ipynb").write_text(notebook_of("raise ValueError('scratch')"))
    (subs / "README.md").write_text("not a submission")
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json")
    rows = {r["path"]: r for r in json.loads(out)["submissions"]}
    assert code == 0 and set(rows) == {"alice.py", "bob.PY", "carol.ipynb", "dave", "erin.ipynb", "frank"}, err
    assert rows["carol.ipynb"]["verdict"] == "accepted" and rows["frank"]["verdict"] == "accepted"
    assert rows["dave"]["verdict"] == "wrong-answer" and {d["id"] for d in rows["dave"]["diagnoses"]} == {"no-scale"}
    assert rows["bob.PY"]["verdict"] == "load-error" and "lower case" in json.dumps(rows["bob.PY"])
    assert rows["erin.ipynb"]["verdict"] == "load-error" and "not a Jupyter notebook" in json.dumps(rows["erin.ipynb"])
    (subs / "xena").mkdir()  # a student who split the solution into two files
    (subs / "xena" / "solution.py").write_text("from helpers import softmax\n" + CORRECT)
    (subs / "xena" / "helpers.py").write_text("def softmax(x):\n    return x\n")
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json", "--case", "unbatched")
    xena = next(r for r in json.loads(out)["submissions"] if r["path"] == "xena")
    assert xena["verdict"] == "load-error" and any("a submission is one file" in n for n in xena["notes"]), xena


def test_junit_is_valid_and_names_are_stable(subs, tmp_path):
    from lxml import etree

    code, out, err = run_cli("grade", subs, "--problem", "sdpa", "--format", "junit")
    assert code == 0, err
    schema = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "data" / "junit.xsd")))
    doc = etree.fromstring(out.encode())
    assert schema.validate(doc), schema.error_log
    code, out_x, err = run_cli("grade", subs, "--problem", "sdpa", "--format", "junit", "-x")  # skipped cases too
    assert code == 0 and schema.validate(etree.fromstring(out_x.encode())), schema.error_log
    assert etree.fromstring(out_x.encode()).findall(".//testcase/skipped")
    cases = doc.findall(".//testcase")
    assert {c.get("classname") for c in cases} == {"sdpa"}  # no dots: reporters split class names at them
    assert {c.get("file") for c in cases} == {"frank.py", "bob.py", "cheat.py", "broken.py"}
    bob = [c for c in cases if c.get("file") == "bob.py" and c.find("failure") is not None]
    assert bob and all("diagnosis: no-scale" in c.find("failure").get("message") for c in bob)
    assert all("largest error" in c.find("failure").get("message") for c in bob)
    hidden = [c for c in bob if c.get("name").startswith("[hidden]")]
    assert hidden and all(not (c.find("failure").text or "").strip() for c in hidden)  # size only
    sol = tmp_path / "frank.py"  # `run` too: the class name is the problem, not the file's path
    sol.write_text(NO_SCALE)
    code, out, _ = run_cli("run", sol, "--format", "junit")
    doc = etree.fromstring(out.encode())
    assert schema.validate(doc), schema.error_log
    assert {c.get("classname") for c in doc.findall(".//testcase")} == {"sdpa"}


def test_csv_has_diagnoses_and_reasons(subs, tmp_path):
    out = tmp_path / "g.csv"
    code, _, err = run_cli("grade", subs, "--problem", "sdpa", "--format", "json", "-o", tmp_path / "r.json", "--csv", out)
    assert code == 0, err
    rows = {r["path"]: r for r in csv.DictReader(io.StringIO(out.read_text()))}
    assert rows["bob.py"]["diagnoses"] == "no-scale" and rows["bob.py"]["reason"] == ""
    assert "imports 'torch'" in rows["cheat.py"]["reason"] and rows["cheat.py"]["verdict"] == "forbidden"
    assert "SyntaxError" in rows["broken.py"]["reason"] and rows["broken.py"]["verdict"] == "load-error"


def test_a_misconfigured_run_fails_at_once(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no code here")
    code, _, err = run_cli("grade", empty, "--problem", "sdpa")
    assert code == 2 and "no submissions" in err
    code, _, err = run_cli("grade", tmp_path / "missing", "--problem", "sdpa")
    assert code == 2 and "no such folder" in err
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "loop.py").write_text("# mhajudge: sdpa\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
                                  "    while True:\n        pass\n")
    for flags, words in ((["-o", "/nonexistent/x.json"], "/nonexistent does not exist"),
                         (["--csv", "/nonexistent/g.csv"], "/nonexistent does not exist"),
                         (["-o", str(tmp_path)], "is a folder")):
        start = time.perf_counter()
        code, _, err = run_cli("grade", slow, "--problem", "sdpa", "--format", "json", *flags)
        assert code == 2 and words in err, err
        assert time.perf_counter() - start < 20  # refused before judging (judging it takes 30 s or more)


def test_kubernetes_indexed_job_command(tmp_path):
    job = yaml.safe_load((ROOT / "examples" / "ci" / "k8s-indexed-job.yaml").read_text())
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    container = spec["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert int(env["SHARDS"]) == spec["completions"]
    subs = tmp_path / "submissions"
    subs.mkdir()
    for f in sorted((SOLUTIONS / "sdpa").glob("*.py"))[:6]:
        shutil.copy(f, subs / f.name)
    base = {k: v for k, v in os.environ.items() if k != "MHAJUDGE_SECRET"}
    base["PATH"] = os.path.dirname(os.sys.executable) + os.pathsep + base["PATH"]
    for index in range(spec["completions"]):  # what each pod runs
        pod_env = {**base, **env, "SUBMISSIONS": str(subs), "REPORTS": str(tmp_path / "reports"),
                   "JOB_COMPLETION_INDEX": str(index), "MHAJUDGE_SECRET": "cluster-secret"}
        proc = subprocess.run(container["command"] + container["args"], env=pod_env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    shards = sorted((tmp_path / "reports").glob("shard-*.json"))
    assert len(shards) == spec["completions"]
    code, out, err = run_cli("merge", *shards)
    assert code == 0, err
    assert sorted(r["path"] for r in json.loads(out)["submissions"]) == sorted(p.name for p in subs.iterdir())


@pytest.mark.parametrize("value", ["-3", "0", "nan", "inf"])
def test_a_max_score_that_is_no_number_of_points_is_a_bad_flag(value, tmp_path):
    """CLI.md: a bad flag exits 2. A --max-score of -3 was written into results.json
    as a total of -3 points (and nan as null), with exit 0."""
    code, out, err = run_cli("run", SOLUTIONS / "sdpa" / "correct_einsum.py", "--format", "gradescope",
                             f"--max-score={value}", "--no-record")
    assert code == 2 and "--max-score must be a positive number" in err and out == "", (code, out, err)
    (tmp_path / "subs").mkdir()
    shutil.copy(SOLUTIONS / "sdpa" / "correct_einsum.py", tmp_path / "subs" / "a.py")
    code, out, err = run_cli("grade", tmp_path / "subs", "-p", "sdpa", "--format", "gradescope",
                             f"--max-score={value}", "--no-isolate")
    assert code == 2 and "--max-score must be a positive number" in err and out == "", (code, out, err)


def test_negative_counts_are_bad_flags(tmp_path):
    code, _, err = run_cli("grade", tmp_path, "-p", "sdpa", "--jobs", "-1")
    assert code == 2 and "--jobs -1" in err, err
    code, _, err = run_cli("history", "-n", "-1")
    assert code == 2 and "--limit -1" in err, err


def test_csv_keeps_students_apart_and_says_why_one_crashed(tmp_path):
    """The hostile pass: ' alice.py' and 'al\u00a0ice.py' became 'alice.py' and 'al ice.py'
    in the CSV (whitespace folded), so a roster import keyed on path would merge two
    students; a hand-edited number column was written raw. A stranger: a runtime error
    had no reason anywhere in the CSV or the table."""
    import csv as csv_module

    from mhajudge.formats import csv_text

    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice.py", " alice.py", "al ice.py", "al\u00a0ice.py", "al\u3000ice.py"):
        (subs / name).write_text(CORRECT)
    (subs / "victor.py").write_text(CORRECT.replace("import numpy as np", ""))  # np never imported
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--csv", tmp_path / "g.csv", "--format", "table",
                             env={"COLUMNS": "200"})
    assert code == 0, err
    rows = list(csv_module.DictReader((tmp_path / "g.csv").open()))
    assert len({r["path"] for r in rows}) == len(rows) == 6, [r["path"] for r in rows]
    victor = next(r for r in rows if r["path"] == "victor.py")
    assert victor["verdict"] == "runtime-error" and "NameError" in victor["reason"], victor
    assert "NameError" in out  # the table's why column too
    text = csv_text({"submissions": [{"path": "x.py", "verdict": "wrong-answer", "passed": "=HYPERLINK(\"e\")",
                                      "total": "@SUM(1)", "score": "=1", "cases": []}]})
    assert "=" not in text.splitlines()[1] and "@" not in text.splitlines()[1]


def test_gradescope_points_add_up_and_every_row_has_its_cases(tmp_path):
    """A stranger: with MAX_SCORE 50 the 18 tests' max_score summed to 50.0004 and their
    scores to 44.4448 against a total of 44.4445; a folder of several .py files had no
    cases (0/0 in Gradescope, one JUnit test). A symlink to a classmate's file is said."""
    from mhajudge.formats import gradescope

    subs = tmp_path / "subs"
    (subs / "yusuf").mkdir(parents=True)
    (subs / "yusuf" / "attention.py").write_text(CORRECT)
    (subs / "yusuf" / "utils.py").write_text("x = 1\n")
    (subs / "alice.py").write_text(NO_SCALE)
    (subs / "zoe.py").symlink_to(subs / "alice.py")
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json")
    rows = {r["path"]: r for r in json.loads(out)["submissions"]}
    assert code == 0, err
    assert len(rows["yusuf"]["cases"]) == rows["yusuf"]["total"] == rows["alice.py"]["total"] > 0
    assert any("a symlink to alice.py" in n for n in rows["zoe.py"]["notes"]), rows["zoe.py"]["notes"]
    for row in rows.values():
        for points in (50, 7, None):
            g = gradescope(row, points)
            assert round(sum(t["max_score"] for t in g["tests"]), 4) == g["max_score"]
            assert round(sum(t["score"] for t in g["tests"]), 4) == g["score"]
        assert gradescope(row, 50)["max_score"] == 50
