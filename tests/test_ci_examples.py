"""The example CI pipelines' shell steps really work (run here, outside GitHub)."""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from conftest import ROOT, SOLUTIONS

CI = ROOT / "examples" / "ci"


def shell_steps(job: dict, matrix: dict | None = None) -> list[str]:
    """The `run:` scripts of a job, with GitHub expressions filled in; installs skipped."""
    scripts = []
    for step in job["steps"]:
        script = step.get("run")
        if not script or "pip install" in script or "apt-get install" in script:
            continue
        for key, value in (matrix or {}).items():
            script = script.replace("${{ matrix.%s }}" % key, str(value))
        assert "${{" not in script, f"unfilled expression in {script!r}"
        scripts.append(script)
    return scripts


def bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def ci_env(extra=None):
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    env.update(extra or {})
    return env


def test_grade_matrix_pipeline(tmp_path):
    flow = yaml.safe_load((CI / "grade-matrix.yml").read_text())
    subs = tmp_path / "submissions"
    subs.mkdir()
    for f in sorted((SOLUTIONS / "sdpa").glob("*.py"))[:6]:
        shutil.copy(f, subs / f.name)
    env = ci_env({"PROBLEM": "sdpa", "SHARDS": str(flow["env"]["SHARDS"]), "MHAJUDGE_SECRET": "ci-secret"})
    for shard in flow["jobs"]["grade"]["strategy"]["matrix"]["shard"]:
        for script in shell_steps(flow["jobs"]["grade"], {"shard": shard}):
            proc = bash(script, tmp_path, env)
            assert proc.returncode == 0, proc.stderr
    for script in shell_steps(flow["jobs"]["merge"]):
        proc = bash(script, tmp_path, env)
        assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert sorted(r["path"] for r in report["submissions"]) == sorted(p.name for p in subs.iterdir())
    assert len(ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite")) == 6
    assert (tmp_path / "grades.csv").read_text().count("\n") == 7


def test_student_repo_job_passes_and_fails(tmp_path):
    flow = yaml.safe_load((CI / "student-repo.yml").read_text())
    (script,) = shell_steps(flow["jobs"]["judge"])
    for source, ok in ((SOLUTIONS / "sdpa" / "correct_einsum.py", True), (SOLUTIONS / "sdpa" / "no_scale.py", False)):
        shutil.copy(source, tmp_path / "solution.py")
        proc = bash(script, tmp_path, ci_env())
        assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
        root = ET.parse(tmp_path / "junit.xml").getroot()
        assert int(root.get("failures")) == (0 if ok else int(root.get("failures"))) and (ok or int(root.get("failures")) > 0)
