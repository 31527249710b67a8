"""Hostile and broken submissions, through the real CLI, in both modes.

Each gets the verdict it must get, and nothing it started is left running (every
test, here and elsewhere, is followed by conftest's check for orphaned sandboxes).
The isolated mode (bubblewrap) runs where `bwrap` works; `.ci/run` installs it.
"""

import os
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import SDPA_CORRECT, run_cli
from mhajudge.sandbox.isolation import bwrap_problem

MODES = ["plain", pytest.param("isolated", marks=pytest.mark.skipif(
    bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}"))]

CORRECT = SDPA_CORRECT


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
    # -x: one case is the point; 18 cases each filling 2 GiB can use up the file's
    # 120 s budget on a loaded machine, and the rest are then time-limits.
    report, _ = judge(tmp_path, mode, body, "-x", time_limit=20)
    assert report["verdict"] in ("memory-limit", "runtime-error"), report["cases"][0]["message"]
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
# A file that imports torch is on the torch track (tests/test_torch_track.py); one whose
# header keeps it on the NumPy track may not import torch at all.
@pytest.mark.parametrize("line", ["# mhajudge: sdpa numpy\nimport torch", "import mhajudge", "import importlib\nimportlib.import_module('mha' + 'judge')",
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
    # Linux counts, in a process's peak, the memory of the process it was forked from
    # before its exec: forked from this test process (which may hold torch by now), the
    # judge would inherit its size. So a small launcher, exec'd first, forks the judge.
    launcher = ("import os, subprocess, sys\n"
                "with open(sys.argv[1], 'wb') as out, open(sys.argv[2], 'wb') as err:\n"
                "    proc = subprocess.Popen(sys.argv[3:], stdout=out, stderr=err)\n"
                "    print(os.wait4(proc.pid, 0)[2].ru_maxrss)\n")
    peak = subprocess.run([sys.executable, "-c", launcher, str(out_file), str(err_file), *args], env=env,
                          capture_output=True, text=True, timeout=600)
    import json

    assert json.loads(out_file.read_text())["verdict"] == verdict, err_file.read_text()
    # The judge's peak (the largest of it and the children it waited for): while 18
    # cases print 4 MB each (the capture keeps 64 KB per stream), or try to return
    # 3 GB (refused in the child by its 2 GiB address space), it stays near a bare
    # NumPy process.
    peak_mb = int(peak.stdout.split()[-1]) / 1024
    assert peak_mb < 300, f"peak RSS {peak_mb:.0f} MB"


@pytest.mark.parametrize("mode", MODES)
def test_endless_recursion_and_segfault_are_runtime_errors(tmp_path, mode):
    report, _ = judge(tmp_path, mode, "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
                                       "    return scaled_dot_product_attention(Q, K, V, mask)\n")
    assert report["verdict"] == "runtime-error" and "Recursion" in report["cases"][0]["message"]
    report, _ = judge(tmp_path, mode, "import ctypes\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
                                       "    return ctypes.string_at(0)\n")
    assert report["verdict"] == "runtime-error" and "SIGSEGV" in report["cases"][0]["message"]


# ---------------------------------------------------------------------------
# The second release: a judge that cannot be fooled (classes 1-5, 7, 8 of the
# integrity issue; the hostile submissions folder is in test_hostile_folder.py).

import json as _json
import pathlib
import sysconfig
import signal

from mhajudge.sandbox import cgroup

STRICT = dict(parse_constant=lambda name: pytest.fail(f"non-strict JSON constant {name} in the report"))

# A candidate that finds the marker and the reply pipe of its case (they are in a
# frame of the trusted code that forked it) and writes a reply of its own choosing.
FORGE = '''
import json as _j, struct as _s
def _forge(reply, blobs=b"", sizes=None, raw=None):
    f = sys._getframe()
    while f is not None and not ("marker" in f.f_locals and "w" in f.f_locals):
        f = f.f_back
    marker, w = f.f_locals["marker"], f.f_locals["w"]
    body = dict(reply)
    body["blobs"] = list(sizes if sizes is not None else ([len(blobs)] if blobs else []))
    header = _j.dumps(body).encode()
    frame = raw if raw is not None else _s.pack("<Q", len(header)) + header + blobs
    os.write(w, marker + frame)
    os._exit(0)
'''


def judge_text(tmp_path, mode, body, *extra, env=None, time_limit=2, problem="sdpa"):
    """Like ``judge``, but returns (exit code, stdout, stderr) with any format."""
    path = tmp_path / f"sol_{uuid.uuid4().hex[:8]}.py"
    path.write_text(f"# mhajudge: {problem}\nimport numpy as np\nimport os, sys\n" + textwrap.dedent(body))
    args = ["run", path, "--time-limit", str(time_limit), *extra]
    if mode != "default":  # default: the contract's rule decides
        args.append("--isolate" if mode == "isolated" else "--no-isolate")
    code, out, err = run_cli(*args, env=env)
    assert "Traceback" not in err and "internal error" not in err, err
    return code, out, err


def judge_json(tmp_path, mode, body, *extra, **kw):
    code, out, err = judge_text(tmp_path, mode, body, "--format", "json", *extra, **kw)
    assert out.strip(), f"exit {code}, stderr: {err}"
    return code, _json.loads(out, **STRICT)


@pytest.mark.parametrize("mode", MODES)
def test_a_forged_load_verdict_is_not_taken(tmp_path, mode):
    """At import, the candidate replies for the probe with the verdict `accepted`."""
    body = FORGE + '_forge({"status": "load-failed", "verdict": "accepted", "message": "\\x1b[2Jfine", "line": 1})\n' + CORRECT
    code, report = judge_json(tmp_path, mode, body)
    assert code == 1 and report["verdict"] == "load-error", report["cases"][:1]
    assert "\x1b" not in _json.dumps(report)


FORGED_FIELDS = {
    "time as text": ('{"status": "ok", "time_s": "fast"}', "time_s is not a number"),
    "time NaN": ('{"status": "ok", "time_s": float("nan")}', "time_s is not a finite"),
    "status accepted": ('{"status": "accepted"}', "unknown status"),
    "a made-up exception": ('{"status": "raised", "exception": "ValueErrorX", "message": "x"}', "not a builtin"),
    "no arrays": ('{"status": "ok", "time_s": 0.001}', "no answer arrays"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(FORGED_FIELDS))
def test_forged_reply_fields_are_runtime_errors(tmp_path, mode, name):
    reply, words = FORGED_FIELDS[name]
    body = FORGE + CORRECT.replace("    s = Q @", f"    _forge({reply})\n    s = Q @")
    code, report = judge_json(tmp_path, mode, body)
    assert code == 1
    for c in report["cases"]:
        assert c["verdict"] == "runtime-error", c
        assert "malformed reply" in c["message"] and words in c["message"], c["message"]


ABSURD = '{"$a": 0, "dtype": "<f8", "shape": [1099511627776, 1099511627776]}'  # 2^80 numbers in 8 bytes


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("frame", ["absurd dims", "truncated", "not json", "huge header"])
def test_malformed_frames_are_runtime_errors(tmp_path, mode, frame):
    forge = {
        "absurd dims": (f'{{"status": "ok", "time_s": 0.001, "payload": {{"$d": {{"output": {ABSURD}, "weights": {ABSURD}}}}}}}',
                        "blobs=bytes(8)"),
        "truncated": ('{"status": "ok"}', "sizes=[1000], blobs=b'xx'"),
        "not json": ("{}", "raw=struct.pack('<Q', 5) + b'{nope'"),
        "huge header": ("{}", "raw=struct.pack('<Q', 1 << 40) + b'{'"),
    }[frame]
    body = FORGE + "import struct\n" + CORRECT.replace("    s = Q @", f"    _forge({forge[0]}, {forge[1]})\n    s = Q @")
    code, report = judge_json(tmp_path, mode, body)
    assert code == 1
    assert {c["verdict"] for c in report["cases"]} <= {"runtime-error", "time-limit"}, report["cases"][:1]


@pytest.mark.parametrize("mode", MODES)
def test_a_fast_time_cannot_be_claimed_for_slow_code(tmp_path, mode):
    """The candidate burns ~60 ms of CPU per call, then stops the clock the child reads."""
    body = CORRECT.replace("    s = Q @", "    import time\n    t = time.process_time()\n"
                                          "    while time.process_time() - t < 0.06:\n        pass\n"
                                          "    time.perf_counter = lambda: 0.0\n    s = Q @")
    code, report = judge_json(tmp_path, mode, body, time_limit=5)
    assert report["verdict"] == "accepted"
    times = [c["time_s"] for c in report["cases"]]
    # Claimed: 0. Measured from outside: at least the CPU time shared over the most calls (5).
    assert min(times) >= 0.06 / 5 * 0.8, times


FLASH_NAIVE = (pathlib.Path(__file__).parents[1] / "reference" / "solutions" / "flash-attention"
               / "naive_full_matrix.py").read_text()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("trick", ["reset_peak", "mmap"])
def test_the_memory_bound_cannot_be_dodged(tmp_path, mode, trick):
    """The full L x L matrix, hidden from tracemalloc by resetting its peak or by an mmap."""
    if trick == "reset_peak":
        body = FLASH_NAIVE.replace("    return w @ V", "    __import__('__main__').tracemalloc.reset_peak()  # banned by name, but the child holds it\n"
                                   "    return w @ V")
    else:
        body = FLASH_NAIVE.replace(
            "    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])",
            "    import mmap\n    shape = Q.shape[:-1] + K.shape[-2:-1]\n"
            "    buf = mmap.mmap(-1, int(np.prod(shape)) * 8)\n"
            "    s = np.frombuffer(buf, dtype=np.float64).reshape(shape)\n"
            "    np.matmul(Q, np.swapaxes(K, -1, -2), out=s)\n    s /= np.sqrt(Q.shape[-1])")
    assert body != FLASH_NAIVE
    code, report = judge_json(tmp_path, mode, body, problem="flash-attention", time_limit=20)
    memory_cases = [c for c in report["cases"] if "memory bound" in c["name"]]
    assert memory_cases and all(c["verdict"] == "memory-limit" for c in memory_cases), memory_cases
    assert report["verdict"] == "memory-limit"


BANNED_REACH = '''
import glob, subprocess, ctypes
def _banned_reachable():
    try:
        sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ImportGuard"]
        for name in ("scipy", "torch"):
            sys.modules.pop(name, None)
            try:
                __import__(name)
                return "import " + name
            except ImportError:
                pass
        pythons = glob.glob("/usr/bin/python3*") + glob.glob("/usr/local/bin/python3*") + [sys.executable]
        pythons += glob.glob(os.path.join(sys.base_prefix, "bin", "python3*"))
        for py in pythons:
            try:
                r = subprocess.run([py, "-c", "import scipy"], capture_output=True, timeout=10)
                if r.returncode == 0:
                    return "subprocess " + py
                r = subprocess.run([py, "-c", "import torch"], capture_output=True, timeout=20)
                if r.returncode == 0:
                    return "subprocess torch " + py
            except (OSError, subprocess.SubprocessError):
                pass
        libs = []
        for site in SITES:  # where the judge's own interpreters keep their packages
            libs += glob.glob(site + "/torch/lib/libtorch*.so")[:2] + glob.glob(site + "/scipy/special/*.so")[:2]
        for lib in libs:
            try:
                ctypes.CDLL(lib)
                return "ctypes " + lib
            except OSError:
                pass
    except Exception as exc:
        return None
    return None
'''


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_isolated_view_has_no_banned_package_in_any_interpreter(tmp_path):
    """Isolated, the guard can be removed, other interpreters run, ctypes loads: still no
    banned package anywhere. (Plain mode enforces the ban at the Python level only: the
    README says so.)"""
    import site

    sites = sorted(set(site.getsitepackages()) | {sysconfig.get_paths()["purelib"]}
                   | {os.path.join(sysconfig.get_paths()["stdlib"], "site-packages")})
    body = f"SITES = {sites!r}\n" + BANNED_REACH + CORRECT.replace("    s = Q @", "    how = _banned_reachable()\n"
                                                        "    if how is None:\n        raise RuntimeError('none')\n    s = Q @")
    code, report = judge_json(tmp_path, "isolated", body, time_limit=60)
    assert report["verdict"] == "runtime-error", report["cases"][0]
    assert all("none" in c["message"] for c in report["cases"] if c["group"] == "sample"), report["cases"][0]


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_the_isolated_view_holds_only_the_standard_library_and_numpy():
    from mhajudge.sandbox.isolation import bwrap_prefix

    walk = ("import os, sys\nbad = []\n"
            "for top in ('/usr', '/lib', '/bin', '/sbin', sys.base_prefix, sys.prefix, '/tmp', '/etc'):\n"
            "    for d, dirs, files in os.walk(top):\n"
            "        for n in dirs + [f for f in files if f.endswith(('.so', '.py'))]:\n"
            "            base = n.split('.')[0].split('-')[0]\n"
            "            if base in ('torch', 'scipy', 'sklearn', 'jax', 'tensorflow', 'mhajudge', 'pytest', 'hypothesis') "
            "or n.startswith('libtorch'):\n"
            "                bad.append(os.path.join(d, n))\n"
            "print('\\n'.join(sorted(set(bad))[:20]))\n")
    proc = subprocess.run(bwrap_prefix([]) + [sys.executable, "-I", "-c", walk], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", proc.stdout


LOAD_BY_PATH = ("import importlib.util, sys\nname = sys.argv[1]\n"
                "spec = importlib.util.spec_from_file_location('_m', f'/judge-child/{name}.py')\n"
                "m = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(m)\nprint(getattr(m, 'X', 'loaded'))\n")


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_the_isolated_child_loads_its_modules_compiled(tmp_path, monkeypatch):
    """The child's modules come with their compiled code into the view (else every
    submission's child compiles ~2,000 lines again): compiled where missing (unless
    Python may not write bytecode), bound, and Python says it took the code object from
    the view's __pycache__, not from compiling the source."""
    import shutil

    from mhajudge.sandbox import CHILD_FILES
    from mhajudge.sandbox.isolation import bwrap_prefix, compiled_beside

    files = [Path(shutil.copy(f, tmp_path)) for f in CHILD_FILES]  # the package's own folder stays as it is
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert compiled_beside(files) == [] and not (tmp_path / "__pycache__").exists()
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert len(compiled_beside(files)) == len(files)
    proc = subprocess.run(bwrap_prefix(files) + [sys.executable, "-I", "-B", "-v", "-c", LOAD_BY_PATH, "wire"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "code object from '/judge-child/__pycache__/wire." in proc.stderr, proc.stderr[-2000:]


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_a_stale_compiled_module_is_not_what_runs(tmp_path):
    """A compiled module that no longer matches its source (the file changed after it was
    compiled) is bound all the same, and Python runs the source, as it does outside."""
    import py_compile

    from mhajudge.sandbox.isolation import bwrap_prefix, compiled_beside

    src = tmp_path / "mod.py"
    src.write_text("X = 1\n")
    py_compile.compile(str(src), doraise=True)
    src.write_text("X = 'the source as it is now'\n")
    assert compiled_beside([src]), "the stale compiled file should still be found (and bound)"
    proc = subprocess.run(bwrap_prefix([src]) + [sys.executable, "-I", "-B", "-c", LOAD_BY_PATH, "mod"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "the source as it is now"


@pytest.mark.skipif(cgroup.why_not() is not None, reason=f"{cgroup.why_not()}")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["forks", "memfd"])
def test_memory_is_bounded_per_submission(tmp_path, mode, how):
    """Three forks of 900 MB each (each under the 2 GiB per-process cap), or a 2.5 GB
    memfd (outside the address space): the submission as a whole is stopped."""
    hog = {
        "forks": ("    import select, time\n    r, w = os.pipe()\n    kids = []\n    for _ in range(3):\n"
                  "        pid = os.fork()\n        if pid == 0:\n            b = bytearray(900 * 2**20)\n"
                  "            for i in range(0, len(b), 4096):\n                b[i] = 1\n"
                  "            os.write(w, b'x')\n            time.sleep(30)\n            os._exit(0)\n"
                  "        kids.append(pid)\n    got, end = b'', time.time() + 6\n"
                  "    while len(got) < 3 and time.time() < end:\n"
                  "        if select.select([r], [], [], 0.5)[0]:\n            got += os.read(r, 3)\n"
                  "    for pid in kids:\n        os.kill(pid, 9)\n"
                  "    if len(got) < 3:\n        raise MemoryError('a fork was stopped')\n"),
        "memfd": ("    fd = os.memfd_create('hog')\n    chunk = b'x' * (64 << 20)\n"
                  "    for _ in range(40):\n        os.write(fd, chunk)\n"),
    }[how]
    body = CORRECT.replace("    s = Q @", hog + "    s = Q @")
    code, report = judge_json(tmp_path, mode, body, "--samples", time_limit=30)
    first = report["cases"][0]
    assert first["verdict"] in ("memory-limit", "runtime-error"), first
    assert report["verdict"] != "accepted"


def _no_bwrap_env(tmp_path):
    """A PATH with a Python but no bubblewrap on it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    return {"PATH": str(bindir), "MHAJUDGE_SECRET": "s3cr3t-xyz"}


def test_a_secret_needs_isolation_or_an_explicit_no(tmp_path):
    path = tmp_path / "sol.py"
    path.write_text("# mhajudge: sdpa\nimport numpy as np\n" + CORRECT)
    env = _no_bwrap_env(tmp_path)
    code, out, err = run_cli("run", path, env=env)
    assert code == 2 and "bubblewrap" in err and "apt-get install bubblewrap" in err and "--no-isolate" in err, err
    code, out, err = run_cli("run", path, "--no-isolate", "--format", "json", env=env)
    assert code == 0 and "warning" in err and "--no-isolate" in err, err
    assert _json.loads(out)["isolated"] is False
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "a.py").write_text(path.read_text())
    code, out, err = run_cli("grade", folder, "--problem", "sdpa", env={"PATH": env["PATH"]})
    assert code == 2 and "bubblewrap" in err, err


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_with_a_secret_the_candidate_runs_isolated_and_cannot_find_it(tmp_path):
    secret = "s3cr3t-" + uuid.uuid4().hex
    hunt = ("    found = []\n    for p in os.listdir('/proc'):\n        for part in ('environ', 'cmdline'):\n"
            "            try:\n                with open(f'/proc/{p}/{part}', 'rb') as f:\n"
            "                    if b's3cr3t-' in f.read():\n                        found.append(p)\n"
            "            except OSError:\n                pass\n"
            "    if found:\n        raise ValueError('found it in ' + repr(found))\n")
    code, report = judge_json(tmp_path, "default", CORRECT.replace("    s = Q @", hunt + "    s = Q @"),
                              env={"MHAJUDGE_SECRET": secret})
    assert report["isolated"] is True
    assert report["verdict"] == "accepted", report["cases"][0]


@pytest.mark.parametrize("mode", MODES)
def test_hidden_cases_carry_no_candidate_text(tmp_path, mode):
    """Every call raises with its inputs in the message, or forges a `forbidden` reply whose
    module name carries them: with --hide, no hidden case shows any of it."""
    for trick in ("    raise ValueError('LEAK' + repr(Q.ravel()[:4].tolist()))\n",
                  "    _forge({'status': 'forbidden', 'module': 'torch.LEAK' + str(abs(int(Q.ravel()[0] * 1e6)))})\n"):
        body = FORGE + CORRECT.replace("    s = Q @", trick + "    s = Q @")
        code, report = judge_json(tmp_path, mode, body, "--hide")
        hidden = [c for c in report["cases"] if c["group"] == "hidden"]
        assert hidden and not any("LEAK" in c["message"] for c in hidden), hidden[:2]
        assert any("LEAK" in c["message"] for c in report["cases"] if c["group"] == "sample")  # samples show all


@pytest.mark.parametrize("mode", MODES)
def test_candidate_text_is_never_markup_or_terminal_control(tmp_path, mode):
    body = CORRECT.replace("    s = Q @", "    print('\\x1b[2J\\x1b]0;owned\\x07[bold red]ACCEPTED[/]')\n"
                                          "    raise ValueError('\\x1b[31m[link=http://x]click[/link]\\x00\\x1b[0m')\n    s = Q @")
    code, out, err = judge_text(tmp_path, mode, body, env={"COLUMNS": "250"})
    assert code == 1
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out
    assert "[link=http://x]click[/link]" in out  # shown as text, not taken as markup
    assert "[bold red]ACCEPTED[/]" in out         # what it printed, likewise
    code, report = judge_json(tmp_path, mode, body)
    assert "[link=http://x]click[/link]" in report["cases"][0]["message"]
    text = _json.dumps(report, ensure_ascii=False)
    assert "\x1b" not in text and "\\u001b" not in text and "\\u0000" not in text


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=["TERM", "HUP", "KILL"])
def test_stopping_the_judge_leaves_nothing_behind(tmp_path, mode, sig):
    marker = f"mhajudge-stop-{uuid.uuid4().hex[:8]}"
    body = CORRECT.replace("    s = Q @", f"    if os.fork() == 0:\n        os.setsid()\n"
                                          f"        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', '{marker}'])\n"
                                          "    while True:\n        pass\n    s = Q @")
    path = tmp_path / "loop.py"
    path.write_text("# mhajudge: sdpa\nimport numpy as np\nimport os, sys\n" + body)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MHAJUDGE_SECRET"}
    env["TMPDIR"] = str(tmp)
    args = [sys.executable, "-m", "mhajudge", "run", str(path), "--time-limit", "60",
            "--isolate" if mode == "isolated" else "--no-isolate"]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while not processes_with(marker) and time.time() < deadline:
        time.sleep(0.1)
    assert processes_with(marker), "the candidate never started"
    proc.send_signal(sig)
    proc.wait(timeout=20)
    deadline = time.time() + 5
    while (processes_with(marker) or any(tmp.iterdir())) and time.time() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == [], "the candidate's processes outlived the judge"
    assert list(tmp.iterdir()) == [], "a case folder was left behind"
    if sig != signal.SIGKILL:
        assert proc.returncode == 128 + sig, proc.stderr.read()


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_the_trusted_processes_are_out_of_reach_when_isolated(tmp_path):
    """The case's process tries to write to the channel of the process that forked it
    (through /proc/PID/fd), to read its memory, or to signal it: all refused."""
    reach = ("    import signal\n    got = []\n    parent = os.getppid()\n"
             "    for n in range(0, 64):\n        try:\n"
             "            with open(f'/proc/{parent}/fd/{n}', 'wb', buffering=0) as f:\n"
             "                got.append(f'fd {n}')\n        except OSError:\n            pass\n"
             "    for what in ('mem', 'environ'):\n        try:\n"
             "            with open(f'/proc/{parent}/{what}', 'rb') as f:\n                f.read(1)\n"
             "            got.append(what)\n        except OSError:\n            pass\n"
             "    if got:\n        raise ValueError('REACHED ' + ' '.join(got))\n")
    code, report = judge_json(tmp_path, "isolated", CORRECT.replace("    s = Q @", reach + "    s = Q @"))
    assert report["verdict"] == "accepted", report["cases"][0]["message"]


HOSTILE_CLASS = {
    "forge_load.py": FORGE + '_forge({"status": "load-failed", "verdict": "accepted", "message": "ok"})\n' + CORRECT,
    "forge_nan.py": FORGE + CORRECT.replace("    s = Q @", '    _forge({"status": "ok", "time_s": float("nan")})\n    s = Q @'),
    "forge_forbidden.py": FORGE + CORRECT.replace(
        "    s = Q @", "    _forge({'status': 'forbidden', 'module': 'torch.LEAK' + str(abs(int(Q.ravel()[0] * 1e6)))})\n    s = Q @"),
    "leak.py": CORRECT.replace("    s = Q @", "    raise ValueError('LEAK' + repr(Q.ravel()[:4].tolist()))\n    s = Q @"),
    "markup.py": CORRECT.replace("    s = Q @", "    print('\\x1b[2J[bold]LOUD[/bold]')\n"
                                              "    raise ValueError('\\x1b[31m[red]ACCEPTED[/red]\\x00')\n    s = Q @"),
    "loop.py": CORRECT.replace("    s = Q @", "    while True:\n        pass\n    s = Q @"),
    "fork_bomb.py": CORRECT.replace("    s = Q @", "    while True:\n        try:\n            os.fork()\n"
                                                 "        except OSError:\n            pass\n    s = Q @"),
    "kill_parent.py": CORRECT.replace("    s = Q @", "    import signal\n    os.kill(os.getppid(), signal.SIGKILL)\n    s = Q @"),
    "flood.py": CORRECT.replace("    s = Q @", "    for fd in range(3, 64):\n        try:\n"
                                             "            os.write(fd, b'x' * (1 << 20))\n        except OSError:\n"
                                             "            pass\n    sys.stdout.write('y' * (8 << 20))\n    s = Q @"),
    "exit_at_import.py": "os._exit(3)\n" + CORRECT,
    "memfd.py": CORRECT.replace("    s = Q @", "    fd = os.memfd_create('hog')\n    chunk = b'x' * (64 << 20)\n"
                                             "    for _ in range(40):\n        os.write(fd, chunk)\n    s = Q @"),
}


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_grading_a_class_of_hostile_code(tmp_path):
    """One grade run over honest and hostile submissions: it finishes, exits 0, judges the
    honest ones right, gives every hostile one a sensible row, and every output is well-formed."""
    folder = tmp_path / "subs"
    folder.mkdir()
    head = "# mhajudge: sdpa\nimport numpy as np\nimport os, sys\n"
    (folder / "correct.py").write_text(head + CORRECT)
    (folder / "no_scale.py").write_text(head + CORRECT.replace("/ np.sqrt(Q.shape[-1])", ""))
    for name, body in HOSTILE_CLASS.items():
        (folder / name).write_text(head + body)
    env = {k: v for k, v in os.environ.items() if k != "MHAJUDGE_SECRET"}
    env["MHAJUDGE_SECRET"] = "class-secret"
    out = tmp_path / "report.json"
    args = [sys.executable, "-m", "mhajudge", "grade", str(folder), "--problem", "sdpa", "--format", "json",
            "-o", str(out), "--time-limit", "2", "--jobs", "2"]
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode()
    assert os.waitstatus_to_exitcode(status) == 0, err
    text = out.read_text()
    report = _json.loads(text, **STRICT)
    rows = {r["path"]: r for r in report["submissions"]}
    assert sorted(rows) == sorted(["correct.py", "no_scale.py", *HOSTILE_CLASS])
    assert rows["correct.py"]["verdict"] == "accepted"
    assert rows["no_scale.py"]["verdict"] == "wrong-answer"
    for name in HOSTILE_CLASS:  # flood.py floods every channel but answers right: it may pass
        assert rows[name]["verdict"] == "accepted" if name == "flood.py" else rows[name]["verdict"] != "accepted", name
        assert not rows[name].get("judge_error"), rows[name]
    assert rows["forge_load.py"]["verdict"] == "load-error"
    assert rows["loop.py"]["verdict"] == "time-limit"
    assert not [c for r in rows.values() for c in r["cases"] if c["group"] == "hidden" and "LEAK" in c["message"]]
    assert "\x1b" not in text and "\\u001b" not in text
    print(f"\ngrade of {len(rows)} submissions: {elapsed:.1f} s, judge peak RSS {usage.ru_maxrss / 1024:.0f} MB")
    assert elapsed < 240


# ---------------------------------------------------------------------------
# Found by a hostile pass over the hardened judge (each failed before its fix).

@pytest.mark.parametrize("mode", MODES)
def test_a_padding_part_does_not_shrink_the_measured_peak(tmp_path, mode):
    """The full L x L matrix, then a forged reply with a tiny claimed peak and an extra
    48 MiB part: the sending allowance was taken on every part, declared or not."""
    body = FLASH_NAIVE.replace("    return w @ V", "    out = w @ V\n"
                               "    _forge({'status': 'ok', 'time_s': 0.001, 'peak_bytes': 1024, 'payload': "
                               "{'$d': {'output': {'$a': 0, 'dtype': '<f8', 'shape': list(out.shape)}, "
                               "'pad': {'$a': 1, 'dtype': '<f8', 'shape': [6 << 20]}}}}, *_raw(out, np.zeros(6 << 20)))\n"
                               "    return out")
    raw = ("def _raw(*arrays):\n    blobs = [np.ascontiguousarray(a, dtype=np.float64).tobytes() for a in arrays]\n"
           "    return b''.join(blobs), [len(b) for b in blobs]\n")
    code, report = judge_json(tmp_path, mode, FORGE + raw + body, "--case", "memory bound",
                              problem="flash-attention", time_limit=20)
    assert report["verdict"] != "accepted", report["cases"]
    assert all("malformed reply" in c["message"] for c in report["cases"]), report["cases"][0]["message"]


@pytest.mark.parametrize("mode", MODES)
def test_an_answer_missing_its_parts_is_no_internal_error(tmp_path, mode):
    body = FLASH_NAIVE.replace("    s = Q @", "    _forge({'status': 'ok', 'time_s': 0.001, 'payload': {'$d': {}}})\n    s = Q @")
    code, report = judge_json(tmp_path, mode, FORGE + body, problem="flash-attention", time_limit=20)
    assert code == 1 and {c["verdict"] for c in report["cases"]} == {"runtime-error"}
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "forger.py").write_text("# mhajudge: flash-attention\nimport numpy as np\nimport os, sys\n" + FORGE + body)
    code, out, err = run_cli("grade", folder, "--problem", "flash-attention", "--format", "json",
                             "--isolate" if mode == "isolated" else "--no-isolate")
    assert code == 0 and "judge_error" not in out, err


@pytest.mark.parametrize("mode", MODES)
def test_a_setsid_chain_of_any_depth_is_gone_after_its_case(tmp_path, mode):
    record = f"/tmp/chain-{uuid.uuid4().hex[:8]}"
    chain = (f"    if os.path.exists({record!r}):\n"
             "        alive = []\n"
             f"        for line in open({record!r}):\n"
             "            try:\n"
             "                with open(f'/proc/{int(line)}/stat') as f:\n"
             "                    if f.read().split(') ')[1][0] != 'Z':\n"
             "                        alive.append(int(line))\n"
             "            except OSError:\n"
             "                pass\n"
             "        if alive:\n"
             "            raise ValueError(f'{len(alive)} still running')\n"
             "    elif os.fork() == 0:\n"
             "        for depth in range(30):\n"
             "            os.setsid()\n"
             f"            with open({record!r}, 'a') as f:\n"
             "                f.write(f'{os.getpid()}\\n')\n"
             "            if os.fork() != 0:\n"
             "                import time\n"
             "                time.sleep(3600)\n"
             "        os._exit(0)\n"
             "    else:\n"
             "        import time\n"
             "        time.sleep(0.5)\n")
    code, report = judge_json(tmp_path, mode, CORRECT.replace("    s = Q @", chain + "    s = Q @"), "--samples",
                              time_limit=10)
    assert report["verdict"] == "accepted", report["cases"]


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"no bubblewrap here: {bwrap_problem()}")
def test_no_mhajudge_package_can_be_pieced_together_in_the_view(tmp_path):
    body = CORRECT.replace("    s = Q @", "    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != 'ImportGuard']\n"
                                          "    import importlib\n    try:\n        importlib.import_module('mha' + 'judge')\n"
                                          "    except ImportError:\n        pass\n"
                                          "    else:\n        raise ValueError('REACHED')\n    s = Q @")
    code, report = judge_json(tmp_path, "isolated", body)
    assert report["verdict"] == "accepted", report["cases"][0]["message"]


@pytest.mark.parametrize("mode", MODES)
def test_a_banned_module_the_child_loaded_is_not_served_from_sys_modules(tmp_path, mode):
    body = FLASH_NAIVE.replace("    s = Q @", "    import importlib\n    importlib.import_module('trace' + 'malloc')\n    s = Q @")
    code, report = judge_json(tmp_path, mode, body, "--samples", problem="flash-attention")
    assert report["verdict"] == "forbidden", report["cases"][0]


@pytest.mark.skipif(cgroup.why_not() is not None, reason=f"{cgroup.why_not()}")
@pytest.mark.parametrize("mode", MODES)
def test_the_memory_bound_sees_a_memfd(tmp_path, mode):
    """All L x L scores written into a memfd, never mapped: no process holds them, the
    submission's control group does."""
    body = FLASH_NAIVE.replace("    w = np.exp(", "    fd = os.memfd_create('scores')\n    os.write(fd, s.tobytes())\n"
                                              "    del s\n    s = np.frombuffer(os.pread(fd, 1, 0) and b'', dtype=np.float64)\n"
                                              "    s = np.frombuffer(os.pread(fd, os.fstat(fd).st_size, 0), dtype=np.float64)"
                                              ".reshape(Q.shape[:-1] + K.shape[-2:-1])\n    w = np.exp(")
    code, report = judge_json(tmp_path, mode, body, "--case", "memory bound", problem="flash-attention", time_limit=20)
    assert report["verdict"] == "memory-limit", report["cases"]


def test_hidden_case_times_carry_nothing_out_in_grade(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "a.py").write_text("# mhajudge: sdpa\nimport numpy as np\nimport os, sys\n" + CORRECT)
    code, out, err = run_cli("grade", folder, "--problem", "sdpa", "--format", "json", "--no-isolate")
    (row,) = _json.loads(out)["submissions"]
    assert all(c["time_s"] is None for c in row["cases"] if c["group"] == "hidden")
    assert all(c["time_s"] is not None for c in row["cases"] if c["group"] == "sample")


def test_invisible_characters_cannot_make_a_name_look_like_another(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    head = "# mhajudge: sdpa\nimport numpy as np\n"
    (folder / "bob.py").write_text(head + CORRECT.replace("/ np.sqrt(Q.shape[-1])", ""))
    for name in ("bob\u200b.py", "b\u200fob.py", "bob\ufeff.py", "bo\u00adb.py"):
        (folder / name).write_text(head + CORRECT)
    csv_path = tmp_path / "g.csv"
    code, out, err = run_cli("grade", folder, "--problem", "sdpa", "--csv", csv_path, env={"COLUMNS": "200"})
    assert code == 0, err
    shown = [line.split("│")[1].strip() for line in out.splitlines() if line.startswith("│")]
    assert len(shown) == 5 and shown.count("bob.py") == 1, shown
    paths = [line.split(",")[0] for line in csv_path.read_text().splitlines()[1:]]
    assert paths.count("bob.py") == 1 and len(set(paths)) == 5, paths


def test_nan_rows_of_an_answer_are_shown_not_taken_as_markup(tmp_path):
    body = CORRECT.replace("    return w @ V, w", "    return np.full_like(w @ V, np.nan), w")
    code, out, err = judge_text(tmp_path, "plain", body, "--samples")
    assert "[nan nan]" in out, out


def _grandchildren(pid: int) -> list[int]:
    """The processes two levels below ``pid`` (for grade: the cases' processes)."""
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = open(f"/proc/{name}/stat").read()
            except OSError:
                continue
            parents[int(name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    children = {c for c, p in parents.items() if p == pid}
    return [g for g, p in parents.items() if p in children]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_stopping_grade_leaves_nothing_and_judges_nothing_more(tmp_path, sig):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(6):
        (folder / f"loop{i}.py").write_text("# mhajudge: sdpa\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
                                            "    while True:\n        pass\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MHAJUDGE_SECRET"}
    env["TMPDIR"] = str(tmp)
    # As from a terminal: a suite started in the background (`.ci/run &`) ignores SIGINT, and a
    # process inherits that (Python then installs no Ctrl-C handler at all).
    proc = subprocess.Popen([sys.executable, "-m", "mhajudge", "grade", str(folder), "--problem", "sdpa",
                             "--time-limit", "20", "--jobs", "2", "--no-isolate"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Judging has begun once a case's process runs (a grandchild of grade): a fixed wait was too
    # short on a loaded machine, where the signal then came before grade ran at all.
    deadline = time.monotonic() + 60
    while not _grandchildren(proc.pid) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert _grandchildren(proc.pid), "grade never started a case"
    time.sleep(0.5)
    start = time.perf_counter()
    proc.send_signal(sig)
    proc.wait(timeout=30)
    assert time.perf_counter() - start < 10, "grade went on judging the queued submissions"
    err = proc.stderr.read().decode()
    assert proc.returncode == 128 + sig, (proc.returncode, err)  # stopped by the signal, not an early exit
    assert "every sandbox was closed" in err, err
    time.sleep(0.5)
    assert list(tmp.iterdir()) == [], "a folder was left behind"


# ---------------------------------------------------------------------------
# The next case's process is forked while a case runs (a spare, see sandbox/fork.py).

SIBLINGS = '''
def _siblings():
    """The other processes of the trusted child: the next case's spare among them."""
    me, parent = os.getpid(), os.getppid()
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != me:
            try:
                stat = open(f"/proc/{name}/stat").read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == parent:
                out.append(int(name))
    return out
'''


@pytest.mark.parametrize("mode", MODES)
def test_a_case_that_kills_the_next_cases_process_fails_only_itself(tmp_path, mode):
    """Each call kills every sibling process it can find (the spare waiting for the next
    case): the next case must still be judged (a fresh process, or a runtime error for
    that case), never an internal error, a hang, or a kill of an unrelated process."""
    body = SIBLINGS + CORRECT.replace("    s = Q @", "    import signal\n    for p in _siblings():\n"
                                                 "        os.kill(p, signal.SIGKILL)\n    s = Q @")
    code, report = judge_json(tmp_path, mode, body, time_limit=5)
    verdicts = [c["verdict"] for c in report["cases"]]
    assert set(verdicts) <= {"accepted", "runtime-error"}, report["cases"]
    # A spare killed as it waits is replaced; one killed as its case is handed over costs
    # that case, never the rest.
    assert verdicts[0] == "accepted" and verdicts.count("accepted") > len(verdicts) // 3, verdicts
    for c in report["cases"]:
        if c["verdict"] == "runtime-error":
            assert "internal" not in c["message"], c["message"]


@pytest.mark.parametrize("mode", MODES)
def test_every_case_process_holds_only_its_own_pipe(tmp_path, mode):
    """A spare forked while a case runs must not keep that case's pipe (nor the judge's):
    every case's process, forked ahead or not, sees the same few descriptors."""
    body = CORRECT.replace("    s = Q @", "    raise ValueError('fds ' + ' '.join(sorted(os.listdir('/proc/self/fd'))) + "
                                          "' sockets ' + str(sum(_is_socket(f) for f in os.listdir('/proc/self/fd'))))\n"
                                          "    s = Q @")
    body += ("\ndef _is_socket(fd):\n    try:\n        return os.readlink('/proc/self/fd/' + fd).startswith('socket:')\n"
             "    except OSError:\n        return False\n")
    code, report = judge_json(tmp_path, mode, body, time_limit=5)
    seen = [c["message"].partition("fds ")[2].partition(" sockets")[0].split() for c in report["cases"]]
    sockets = {c["message"].partition(" sockets ")[2][:1] for c in report["cases"]}
    counts = {len(fds) for fds in seen}  # the numbers differ (pipes made in another order), not how many
    # stdin, stdout, stderr, its answer pipe, its socket to the child (serving.py), and listdir's own
    assert len(seen) > 3 and counts == {6} and sockets == {"1"}, (seen, sockets)


KV_CORRECT = (pathlib.Path(__file__).parents[1] / "reference" / "solutions" / "kv-cache" / "correct_concat.py").read_text()


@pytest.mark.parametrize("mode", MODES)
def test_a_stopped_next_process_costs_its_case_its_own_time_limit(tmp_path, mode):
    """Found by a hostile review: case 7 stops (SIGSTOP) the process waiting for case 8,
    whose frame (147 KB) is larger than a pipe holds. Handing it over must not block the
    trusted child past the case's own limit (it did, until the judge's backstop restarted
    the child). Every other case is still judged."""
    body = KV_CORRECT.replace("import numpy as np\n", "import numpy as np\nimport signal\n" + SIBLINGS, 1).replace(
        "def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):\n",
        "def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):\n"
        "    with open('pids.txt', 'a') as f:\n        f.write(f'{os.getpid()}\\n')\n"
        "    if len(set(open('pids.txt').read().split())) == 8:\n"
        "        for p in _siblings():\n            os.kill(p, signal.SIGSTOP)\n", 1)
    assert body.count("SIGSTOP") == 1 and "_siblings" in body
    code, report = judge_json(tmp_path, mode, body, problem="kv-cache", time_limit=1)
    stopped = [c for c in report["cases"] if c["verdict"] != "accepted"]
    assert len(stopped) <= 1, stopped
    for c in stopped:
        assert c["verdict"] == "time-limit" and "(an infinite loop" in c["message"], c  # the child's own limit


@pytest.mark.parametrize("mode", MODES)
def test_a_candidate_that_kills_the_child_and_detaches_cannot_hang_the_judge(tmp_path, mode):
    """A case that double-forks a detached `sleep` (which holds the child's stdout and
    stderr) and then SIGKILLs the trusted child, its parent: the orphan is out of the
    child's tree. `run` used to hang for good in Sandbox.close (a stream closed while its
    reader thread was blocked on it; the control group, which would have killed the
    sleep, was only removed after that), deaf to SIGTERM. Now the group is killed first
    and a stream still held is left to its reader: the run ends, and where the judge has
    a control group (or isolation) for the submission, nothing is left running."""
    marker = f"{2000 + uuid.uuid4().int % 10**6}.5"
    body = ("import signal\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
            "    zygote = os.getppid()\n    if os.fork() == 0:\n        os.setsid()\n"
            f"        if os.fork() == 0:\n            os.execvp('sleep', ['sleep', '{marker}'])\n"
            "        os._exit(0)\n    os.wait()\n    os.kill(zygote, signal.SIGKILL)\n    return Q, Q\n")
    report, elapsed = judge(tmp_path, mode, body, "--samples", time_limit=5)
    assert report["verdict"] != "accepted" and elapsed < 120, (report["verdict"], elapsed)
    left = processes_with(marker)
    for pid in left:  # where nothing could reach it (plain mode with neither a uid nor a group): tidy up
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    if mode == "isolated" or cgroup.why_not() is None:
        assert left == [], left
