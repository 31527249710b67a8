"""The warm session behind ``run --watch`` and ``practice``: one child for every save."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import ROOT, SOLUTIONS
from mhajudge.errors import JudgeError
from mhajudge.session import Session

CORRECT = ROOT / "examples" / "sdpa_correct.py"


def _save(path, text):
    """Write a new version (a new mtime too, as an editor's save)."""
    path.write_text(text)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def test_one_child_judges_every_save(tmp_path):
    path = tmp_path / "sol.py"
    shutil.copy(SOLUTIONS / "sdpa" / "no_scale.py", path)
    with Session(path, "sdpa") as s:
        first = s.judge("all")
        child = s.box.proc.pid
        assert first.verdict == "wrong-answer"
        _save(path, CORRECT.read_text())
        second = s.judge("all")
        assert second.verdict == "accepted" and second.passed == second.total
        assert s.box.proc.pid == child  # the same warm child, a new version of the file
        _save(path, "def scaled_dot_product_attention(Q, K, V, mask=None)\n    return Q\n")
        broken = s.judge("all")
        assert broken.verdict == "load-error" and "SyntaxError" in broken.load_message
        _save(path, CORRECT.read_text())
        assert s.judge("all").verdict == "accepted"  # no earlier code survives a failed load


def test_prints_belong_to_their_own_save(tmp_path):
    path = tmp_path / "sol.py"
    body = CORRECT.read_text()
    _save(path, body + "\nprint('version one')\n")
    with Session(path, "sdpa") as s:
        assert "version one" in s.judge("sample").stdout
        _save(path, body + "\nprint('version two')\n")
        out = s.judge("sample").stdout
        assert "version two" in out and "version one" not in out


def test_samples_judged_once_per_source(tmp_path):
    """Samples first, then every case: the sample cases are not run a second time
    on the same source (their answers are the very ones already received), and
    are run again once the file changes."""
    path = tmp_path / "sol.py"
    _save(path, CORRECT.read_text())
    with Session(path, "sdpa") as s:
        samples = s.judge("sample")
        assert samples.verdict == "accepted" and samples.total == 2
        full = s.judge("all")
        assert full.verdict == "accepted" and full.total > samples.total
        by_name = {c.name: c for c in full.cases}
        for c in samples.cases:
            assert by_name[c.name].answer is c.answer  # reused, not run again
        rerun = s.judge("all")
        assert all(a.answer is b.answer for a, b in zip(rerun.cases, full.cases))
        _save(path, CORRECT.read_text() + "\n# a comment changes the source\n")
        again = s.judge("sample")
        assert again.verdict == "accepted"
        assert all(a.answer is not b.answer for a, b in zip(again.cases, samples.cases))


def test_a_file_that_kills_its_child_gets_a_new_one(tmp_path):
    path = tmp_path / "sol.py"
    _save(path, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + CORRECT.read_text())
    with Session(path, "sdpa") as s:
        assert s.judge("sample").verdict != "accepted"
        _save(path, CORRECT.read_text())
        assert s.judge("all").verdict == "accepted"


def test_the_file_vanishing_is_a_judge_error(tmp_path):
    path = tmp_path / "sol.py"
    _save(path, CORRECT.read_text())
    with Session(path, "sdpa") as s:
        assert s.judge("sample").verdict == "accepted"
        path.unlink()
        with pytest.raises(JudgeError, match="no such file"):
            s.judge("all")


def test_run_adopts_the_child_started_ahead(tmp_path):
    """`run` starts its sandbox's child before loading the command line; the
    judgement adopts that very child (its interpreter and NumPy already started)."""
    from mhajudge.judge import judge_file
    from mhajudge.sandbox import runner

    runner.prestart(isolate=False)
    pre = runner._PRESTARTED
    assert pre is not None and pre.proc.poll() is None
    pid = pre.proc.pid
    seen = []
    original = runner.Sandbox.wait_loaded

    def spy(self):
        seen.append(self.proc.pid)
        return original(self)

    runner.Sandbox.wait_loaded = spy
    try:
        report = judge_file(CORRECT, "sdpa", isolate=False)
    finally:
        runner.Sandbox.wait_loaded = original
    assert report.verdict == "accepted"
    assert seen and seen[0] == pid and runner._PRESTARTED is None


def test_a_child_started_for_another_isolation_is_not_adopted():
    from mhajudge.sandbox import runner

    runner.prestart(isolate=False)
    pre = runner._PRESTARTED
    box = runner.Sandbox(CORRECT, [], [], runner.Limits(memory_bytes=1 << 30), isolate=False)
    assert not box._adopt()  # another memory limit: started otherwise
    assert runner._PRESTARTED is pre
    runner._close_prestarted()
    assert runner._PRESTARTED is None and pre.proc is None


def test_a_save_that_changes_track_gets_a_new_child(tmp_path):
    """NumPy, then the same function in PyTorch: the torch track's child is another
    process (a child never changes track), and both versions are judged right."""
    pytest.importorskip("torch")
    path = tmp_path / "sol.py"
    _save(path, CORRECT.read_text())
    torch_version = ("import math\nimport torch\n\n"
                     "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
                     "    scores = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])\n"
                     "    if mask is not None:\n"
                     "        scores = scores.masked_fill(~mask, float('-inf'))\n"
                     "    m = scores.amax(-1, keepdim=True)\n"
                     "    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))\n"
                     "    e = torch.exp(scores - m)\n"
                     "    s = e.sum(-1, keepdim=True)\n"
                     "    w = torch.where(s > 0, e / torch.where(s > 0, s, torch.ones_like(s)), torch.zeros_like(e))\n"
                     "    return w @ V, w\n")
    with Session(path, "sdpa") as s:
        assert s.judge("sample").verdict == "accepted"
        numpy_child = s.box.proc.pid
        _save(path, torch_version)
        report = s.judge("sample")
        assert report.track == "torch" and s.box.proc.pid != numpy_child
        assert report.verdict == "accepted", [c.message for c in report.cases]
