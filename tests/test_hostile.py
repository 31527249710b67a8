"""Hostile and broken submissions, through the real CLI, in both modes.

Each gets the verdict it must get, and nothing it started is left running (every
test, here and elsewhere, is followed by conftest's check for orphaned sandboxes).
The isolated mode (bubblewrap) runs where `bwrap` works; `.ci/run` installs it.
"""

import os
import resource
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from conftest import run_cli
from mhajudge.isolation import bwrap_problem

MODES = ["plain", pytest.param("isolated", marks=pytest.mark.skipif(
    bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}"))]

CORRECT = """
def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V, w
"""


def judge(tmp_path, mode, body, *extra, env=None, time_limit=1):
    path = tmp_path / f"sol_{uuid.uuid4().hex[:8]}.py"
    path.write_text("# mhajudge: sdpa\nimport numpy as np\nimport os, sys\n" + textwrap.dedent(body))
    args = ["run", path, "--format", "json", "--time-limit", str(time_limit), *extra]
    if mode == "isolated":
        args.append("--isolate")
    start = time.perf_counter()
    code, out, err = run_cli(*args, env=env)
    elapsed = time.perf_counter() - start
    import json

    assert out.strip(), f"exit {code}, stderr: {err}"
    assert "Traceback" not in err
    return json.loads(out), elapsed


def processes_with(marker: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(pid))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("mode", MODES)
def test_loop_in_function_is_time_limit(tmp_path, mode):
    report, elapsed = judge(tmp_path, mode, "def scaled_dot_product_attention(Q, K, V, mask=None):\n    while True:\n        pass\n")
    assert report["verdict"] == "time-limit"
    assert elapsed < 30


@pytest.mark.parametrize("mode", MODES)
def test_loop_at_import(tmp_path, mode):
    report, elapsed = judge(tmp_path, mode, "while True:\n    pass\n" + CORRECT)
    assert report["verdict"] in ("time-limit", "load-error")
    assert elapsed < 30


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["np.ones(2**27)", "np.empty(2**28)", "bytearray(2**28)"])
def test_unbounded_memory(tmp_path, mode, how):
    body = f"hog = []\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n    while True:\n        hog.append({how})\n"
    report, _ = judge(tmp_path, mode, body, time_limit=20)
    assert report["verdict"] in ("memory-limit", "runtime-error")
    if report["verdict"] == "runtime-error":
        assert "MemoryError" in report["cases"][0]["message"]


@pytest.mark.parametrize("mode", MODES)
def test_spawned_and_detached_processes_are_killed(tmp_path, mode):
    marker = f"{1000 + uuid.uuid4().int % 10**6}.5"  # a unique `sleep` argument to find them by
    body = f"""
import subprocess
def scaled_dot_product_attention(Q, K, V, mask=None):
    if not os.path.exists("spawned"):
        open("spawned", "w").close()
        for i in range(24):
            subprocess.Popen(["sleep", "{marker}"], start_new_session=(i % 2 == 0))
        for i in range(4):  # a double fork that holds the output pipes open
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp("sleep", ["sleep", "{marker}"])
                os._exit(0)
    return _real(Q, K, V, mask)
"""
    body = CORRECT.replace("def scaled_dot_product_attention", "def _real") + body
    report, elapsed = judge(tmp_path, mode, body)
    assert report["verdict"] == "accepted", report["cases"][:2]
    assert elapsed < 30
    time.sleep(0.3)
    assert processes_with(marker) == [], "the submission's processes outlived the judge"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("body,verdicts", [
    (CORRECT.replace("    s = Q @", "    sys.exit(0)\n    s = Q @"), {"runtime-error"}),
    ("os._exit(0)\n" + CORRECT, {"load-error", "runtime-error"}),
    ("import signal\nos.kill(os.getppid(), signal.SIGKILL)\n" + CORRECT, {"load-error", "runtime-error"}),
    (CORRECT.replace("    s = Q @", "    import signal\n    os.kill(os.getppid(), signal.SIGKILL)\n    s = Q @"),
     {"runtime-error"}),
])
def test_exits_and_kills_are_never_accepted(tmp_path, mode, body, verdicts):
    report, elapsed = judge(tmp_path, mode, body)
    assert report["verdict"] in verdicts
    assert elapsed < 60


FAKE = '{"problem": "sdpa", "verdict": "accepted", "passed": 18, "total": 18, "cases": [], "diagnoses": []}'


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("correct", [True, False])
def test_fake_reports_on_every_descriptor_change_nothing(tmp_path, mode, correct):
    spray = f"""
def _spray():
    fake = ({FAKE!r} + "\\n").encode() * 3
    for fd in range(0, 256):
        try:
            os.write(fd, fake)
        except OSError:
            pass
_spray()
"""
    body = CORRECT if correct else CORRECT.replace("/ np.sqrt(Q.shape[-1])", "")
    body = spray + body.replace("    return w @ V, w", "    _spray()\n    return w @ V, w")
    report, _ = judge(tmp_path, mode, body)
    assert report["verdict"] == ("accepted" if correct else "wrong-answer")


@pytest.mark.parametrize("mode", MODES)
def test_lying_arrays_and_patched_numpy(tmp_path, mode):
    body = """
import numpy.testing
class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(self), bool)
    def __sub__(self, other): return np.zeros(np.shape(self))
    def __array_ufunc__(self, *args, **kwargs): return np.zeros(np.shape(self))
np.allclose = lambda *a, **k: True
np.abs = lambda x: np.zeros(np.shape(x))
numpy.testing.assert_allclose = lambda *a, **k: None
def scaled_dot_product_attention(Q, K, V, mask=None):
    Lq, Lk = Q.shape[-2], K.shape[-2]
    out = np.full(Q.shape[:-1] + V.shape[-1:], 0.5).view(Liar)
    w = np.full(np.broadcast_shapes(Q.shape[:-2], K.shape[:-2]) + (Lq, Lk), 1.0 / Lk).view(Liar)
    return out, w
"""
    report, _ = judge(tmp_path, mode, body)
    assert report["verdict"] == "wrong-answer"
    assert report["passed"] == 0


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("line", ["import torch", "import mhajudge", "import importlib\nimportlib.import_module('mha' + 'judge')",
                                  "__import__('tor' + 'ch')", "from scipy import special"])
def test_banned_imports(tmp_path, mode, line):
    report, _ = judge(tmp_path, mode, line + "\n" + CORRECT)
    assert report["verdict"] == "forbidden"


@pytest.mark.parametrize("mode", MODES)
def test_secret_is_not_in_the_environment(tmp_path, mode):
    body = CORRECT.replace("    s = Q @", "    assert 'MHAJUDGE_SECRET' not in os.environ\n    s = Q @")
    report, _ = judge(tmp_path, mode, body, env={"MHAJUDGE_SECRET": "top-secret"})
    assert report["verdict"] == "accepted"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("body,words", [
    ("def scaled_dot_product_attention(Q, K, V, mask=None)\n    return Q, Q\n", "line"),
    ("def scaled_dot_product_attention(Q, K, V, mask=None):\nreturn Q, Q\n", "IndentationError"),
    ("def attention(Q, K, V, mask=None):\n    return Q, Q\n", "scaled_dot_product_attention(Q, K, V, mask=None)"),
    ("def scaled_dot_product_attention(Q, K):\n    return Q, Q\n", "scaled_dot_product_attention(Q, K, V, mask=None)"),
])
def test_broken_files_are_load_errors(tmp_path, mode, body, words):
    report, _ = judge(tmp_path, mode, body)
    assert report["verdict"] == "load-error"
    assert words in report["cases"][0]["message"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ret,verdicts", [
    ("None", {"wrong-answer"}),
    ("'accepted'", {"wrong-answer"}),
    ("[[1, 2], [3]], [[1]]", {"wrong-answer"}),
    ("np.full(Q.shape, np.nan), np.full(Q.shape[:-1] + K.shape[-2:-1], np.nan)", {"wrong-answer"}),
    ("np.zeros(3 * 2**30 // 8), np.zeros(1)", {"memory-limit", "wrong-answer"}),
])
def test_malformed_answers(tmp_path, mode, ret, verdicts):
    report, _ = judge(tmp_path, mode, f"def scaled_dot_product_attention(Q, K, V, mask=None):\n    return {ret}\n")
    assert report["verdict"] in verdicts, report["cases"][0]


FLOOD = CORRECT.replace("    s = Q @", "    sys.stdout.write('x' * 2_000_000)\n    sys.stderr.write('y' * 2_000_000)\n    s = Q @")
HUGE = "def scaled_dot_product_attention(Q, K, V, mask=None):\n    return np.ones(3 * 2**30 // 8), np.ones(1)\n"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("body,verdict", [(FLOOD, "accepted"), (HUGE, "memory-limit")], ids=["flood", "huge"])
def test_judge_memory_stays_bounded(tmp_path, mode, body, verdict):
    path = tmp_path / "flood.py"
    path.write_text("# mhajudge: sdpa\nimport numpy as np\nimport os, sys\n" + textwrap.dedent(body))
    env = dict(os.environ)
    env.pop("MHAJUDGE_SECRET", None)
    args = [sys.executable, "-m", "mhajudge", "run", str(path), "--format", "json"]
    if mode == "isolated":
        args.append("--isolate")
    out_file, err_file = tmp_path / "out", tmp_path / "err"
    with open(out_file, "wb") as out, open(err_file, "wb") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    import json

    assert json.loads(out_file.read_text())["verdict"] == verdict, err_file.read_text()
    # The judge's peak (the largest of it and the children it waited for): while 18
    # cases print 4 MB each (the capture keeps 64 KB per stream), or try to return
    # 3 GB (refused in the child by its 2 GiB address space), it stays near a bare
    # NumPy process.
    peak_mb = usage.ru_maxrss / 1024
    assert peak_mb < 300, f"peak RSS {peak_mb:.0f} MB"


@pytest.mark.parametrize("mode", MODES)
def test_endless_recursion_and_segfault_are_runtime_errors(tmp_path, mode):
    report, _ = judge(tmp_path, mode, "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
                                       "    return scaled_dot_product_attention(Q, K, V, mask)\n")
    assert report["verdict"] == "runtime-error" and "Recursion" in report["cases"][0]["message"]
    report, _ = judge(tmp_path, mode, "import ctypes\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
                                       "    return ctypes.string_at(0)\n")
    assert report["verdict"] == "runtime-error" and "SIGSEGV" in report["cases"][0]["message"]
