"""The user's arguments script (``mhajudge try --args ARGS.py``), run as a candidate is.

The script is code the judge did not write: a "repro" file from someone else, or one a
course bot was handed. So it gets what candidate code gets, never the judge's process
or environment:

- its source goes in on stdin (no file of the user's is mounted or named to it);
- a clean environment (:func:`.runner.child_env`: no ``MHAJUDGE_SECRET``);
- isolated (bubblewrap's view, as the child's: no network, no site-packages, so no
  ``import mhajudge``, its own PID namespace and ``/tmp``) whenever the candidate is;
- a uid of its own when the judge runs as root, and the child's memory, process and
  core limits;
- it runs in a fork of a small supervisor that is a subreaper: whatever it started
  (a double fork, ``setsid``) is killed when it ends, and everything is killed when
  its time is up;
- it hands back only an ``.npz`` of number arrays (built there with
  ``allow_pickle``-free ``np.savez``) on a pipe, read here up to a size; what it
  printed goes to a bounded capture and is shown cleaned.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ARGS_TIME_S = 30.0
ARGS_BYTES = 512 << 20      # the .npz it may hand back (held here twice while it is read)
SAID_BYTES = 64 << 10       # what it printed, kept for the error message

# Run as ``python -I -B -c SUPERVISOR UID MEMORY NPROC NAMES``, the script's source on stdin.
SUPERVISOR = r"""
import ctypes, os, resource, signal, sys
uid, memory, nproc, names = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(36, 1, 0, 0, 0)             # PR_SET_CHILD_SUBREAPER: what it starts stays below us
out = os.dup(1)
os.dup2(2, 1)                           # its prints go to the capture, not into the arrays
source = sys.stdin.buffer.read()
import numpy as np
pid = os.fork()
if pid == 0:
    try:
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
        if memory > 0:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid >= 0:
            for m in ("numpy.random", "numpy.linalg", "numpy.fft", "io", "zipfile"):
                __import__(m)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        if nproc > 0:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        found = {"__name__": "__main__", "__builtins__": __builtins__}
        exec(compile(source, "<args>", "exec"), found)
        arrays = {}
        for n in names:
            if n not in found:
                continue
            v = found[n]
            if isinstance(v, dict):  # a dict of arrays: one key each, name/key
                for k, item in v.items():
                    arrays[f"{n}/{k}"] = np.asarray(item)
            elif callable(v):
                sys.exit(f"{n} is a function; the judge cannot take a function from you (see mhajudge try --help)")
            else:
                arrays[n] = np.asarray(v)
        for k, a in arrays.items():
            if a.dtype.kind not in "biuf":
                sys.exit(f"{k} is not an array of numbers "
                         f"(got {type(a.flat[0]).__name__ if a.size else a.dtype} items)")
        import io
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        view = memoryview(buf.getvalue())
        while view:
            view = view[os.write(out, view):]
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException as exc:
        import traceback
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code if isinstance(code, int) and 0 <= code < 256 else 1)
os.close(out)
_, status = os.waitpid(pid, 0)

def below():
    me, kids = str(os.getpid()), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
                if fields[1] == me.encode():
                    kids.append(int(entry))
            except (OSError, IndexError):
                pass
    return kids

for _ in range(100):                     # everything it left, however detached
    kids = below()
    if not kids:
        break
    for k in kids:
        try:
            os.kill(k, signal.SIGKILL)
        except OSError:
            pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
sys.exit(os.waitstatus_to_exitcode(status) if os.waitstatus_to_exitcode(status) >= 0 else 1)
"""


class ScriptError(Exception):
    """The script failed, ran too long or handed back too much; the message says which."""


def run_script(source: str, names: list[str], isolate: bool, *, time_s: float = ARGS_TIME_S,
               limit_bytes: int = ARGS_BYTES) -> bytes:
    """Run ``source`` (a script setting variables named in ``names``) as candidate code
    is run; the ``.npz`` bytes of the arrays it set. :class:`ScriptError` otherwise."""
    from . import CHILD_FILES, cgroup, isolation
    from .runner import PROCESS_LIMIT, Limits, child_env

    dropping = isolation.is_root() and (isolate or isolation.others_can_run_python())
    uid = isolation.allocate_uid() if dropping else -1
    cmd = [sys.executable, "-I", "-B", "-c", SUPERVISOR, str(uid), str(Limits().memory_bytes),
           str(PROCESS_LIMIT if uid >= 0 else 0), ",".join(names)]
    if isolate:
        cmd = isolation.bwrap_prefix(CHILD_FILES) + cmd
    # One control group for all it starts, where the machine has them: what detached itself
    # (setsid), or outlived a supervisor it killed, is found and killed there.
    group = cgroup.Group(Limits().memory_bytes, PROCESS_LIMIT + 8)
    folder = tempfile.mkdtemp(prefix="mhajudge-args-")  # its working folder: nothing lands in the user's
    try:
        proc = subprocess.Popen(group.wrap(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=child_env(), cwd="/tmp" if isolate else folder,
                                start_new_session=True)
        return _finish(proc, source, uid, group, time_s, limit_bytes)
    finally:
        group.remove()
        shutil.rmtree(folder, ignore_errors=True)


def _finish(proc, source: str, uid: int, group, time_s: float, limit_bytes: int) -> bytes:
    from ..untrusted import clean
    from .runner import _Capture

    # The pipes drained as the child's are: the first and last halves of a cap kept, all
    # of it counted (what is at most the cap is then kept whole).
    got, said = _Capture(proc.stdout, limit_bytes), _Capture(proc.stderr, SAID_BYTES)
    readers = [got, said]
    for t in readers:
        t.start()
    try:
        proc.stdin.write(source.encode("utf-8", "surrogateescape"))
        proc.stdin.close()
    except OSError:
        pass
    timed_out = False
    try:
        proc.wait(timeout=time_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _stop(proc, uid, group)
    for t in readers:
        t.join(timeout=2.0)
    text = clean(said.text()).strip()
    if timed_out:
        raise ScriptError(f"took more than {time_s:g} s to run")
    if got.total > limit_bytes:
        raise ScriptError(f"handed back more than {limit_bytes >> 20} MiB of arrays")
    if proc.returncode != 0:
        last = (text.splitlines() or [f"it exited with status {proc.returncode}"])[-1]
        raise ScriptError(f"failed: {last}")
    return got.data()


def _stop(proc, uid: int, group) -> None:
    """Kill the script's supervisor and all it started: everything below it (it is a
    subreaper), its session (bubblewrap's PID namespace goes with it), its control group
    (whatever detached itself or outlived the supervisor), and, with a uid of its own,
    every process of that uid."""
    from . import isolation

    isolation.kill_tree(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    group.kill()
    if uid >= 0:
        isolation.kill_uid(uid)
    deadline = time.monotonic() + 5.0
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
