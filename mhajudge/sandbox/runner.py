"""Running candidate code: a child process with limits, spoken to over pipes.

The judge sends the child the inputs of each case and nothing else; the
expected answers stay in this process. The child imports the candidate once and
forks per case (see :mod:`mhajudge.sandbox.child`). This module only moves frames and
enforces what the child cannot be trusted to enforce: a wall-clock backstop, an
address-space limit, a process group killed whole, capped output capture.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from . import cgroup, models, programs, wire
from ..untrusted import clean
from .replies import Loaded, RunResult, case_result, expected_leaves, probe_loaded  # noqa: F401 - RunResult is part of this API

from . import CHILD, CHILD_FILES, INNER
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")
PROCESS_LIMIT = 64  # processes the candidate's uid may have at once (root is never limited)
KEEP_VARS = ("PATH", "LANG", "LC_ALL", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass
class Limits:
    case_time_s: float | None = None  # per case, wall clock: caps the spec's limit when set
    total_time_s: float = 120.0    # per submission
    load_time_s: float = 20.0      # importing the candidate
    memory_bytes: int = 2 << 30    # address space of the child
    output_bytes: int = 256 << 20  # the largest answer read back
    capture_bytes: int = 64 << 10  # stdout/stderr kept for the report

    def __post_init__(self):
        if self.case_time_s:  # a tighter per-case limit tightens the import's too
            self.load_time_s = min(self.load_time_s, max(2.0, 2 * self.case_time_s))


_LIVE: set = set()  # sandboxes with a child running, for stop_all
_LIVE_LOCK = threading.Lock()
_STOPPED = threading.Event()  # set by stop_all: no sandbox starts any more


class Stopped(Exception):
    """The judge is stopping: no new sandbox starts."""


def stop_all() -> None:
    """Close every running sandbox (the judge was told to stop): nothing is left behind,
    and no sandbox starts after this (a worker thread about to start one is refused)."""
    with _LIVE_LOCK:
        _STOPPED.set()
        boxes = list(_LIVE)
    for box in boxes:
        try:
            box.close()
        except Exception:  # noqa: BLE001 - closing the rest matters more
            pass


_PRESTARTED = None  # a child started ahead of time, waiting for the first Sandbox to adopt it


def prestart(isolate: bool = False, limits: Limits | None = None) -> None:
    """Start a child now, before the judge imports NumPy and builds the cases: the
    first :class:`Sandbox` started with the same isolation and memory limit adopts it,
    so its interpreter and NumPy start while the judge does the rest (``run``). A child
    nobody adopts is closed when the judge exits. Best effort: any failure here only
    means the Sandbox starts its own."""
    global _PRESTARTED
    import atexit

    box = Sandbox(Path("."), [], [], limits or Limits(), isolate=isolate)
    with _LIVE_LOCK:
        if _STOPPED.is_set() or _PRESTARTED is not None:
            return
        _LIVE.add(box)
    try:
        box._spawn()
    except Exception:  # noqa: BLE001 - the Sandbox will start its own child
        box.close()
        return
    with _LIVE_LOCK:
        _PRESTARTED = box
    atexit.register(_close_prestarted)


def _close_prestarted() -> None:
    global _PRESTARTED
    with _LIVE_LOCK:
        box, _PRESTARTED = _PRESTARTED, None
    if box is not None:
        box.close()


CAPTURE_JOIN_S = 2.0  # how long close() waits for a capture thread to see its pipe end


class _Capture(threading.Thread):
    """Drains a pipe, keeping the first and the last ``cap / 2`` bytes and counting the
    rest: what a program printed first, and what it printed last (a traceback after a
    flood of debug lines)."""

    def __init__(self, stream, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.head, self.tail = bytearray(), bytearray()
        self.total = 0
        self.lock = threading.Lock()

    def reset(self) -> None:
        """Forget what was kept: the next version of the file prints afresh."""
        with self.lock:
            self.head, self.tail = bytearray(), bytearray()
            self.total = 0

    def run(self):
        half = max(self.cap // 2, 1)
        try:
            while True:
                chunk = self.stream.read1(1 << 16) if hasattr(self.stream, "read1") else self.stream.read(1 << 16)
                if not chunk:
                    return
                with self.lock:
                    self.total += len(chunk)
                    room = half - len(self.head)
                    if room > 0:
                        self.head += chunk[:room]
                        chunk = chunk[room:]
                    if chunk:
                        self.tail += chunk
                        del self.tail[:max(len(self.tail) - half, 0)]
        except (OSError, ValueError):
            return

    def data(self) -> bytes:
        """What was kept, as bytes: all of it when no more than ``cap`` came."""
        with self.lock:
            return bytes(self.head + self.tail)

    def text(self) -> str:
        with self.lock:
            head, tail, total = bytes(self.head), bytes(self.tail), self.total
        dropped = total - len(head) - len(tail)
        if dropped <= 0:
            return (head + tail).decode("utf-8", "replace")
        return (head.decode("utf-8", "replace") + f"\n[... {dropped:,} bytes not kept ...]\n"
                + tail.decode("utf-8", "replace"))


def _nbytes(value) -> int:
    """The bytes of the arrays in an inputs tree."""
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return int(getattr(value, "nbytes", 0))


def _served(program: dict, inputs) -> bool:
    """Do the inputs hold the judge's models (which the child then answers itself)? Said by
    the program where the cases were built (``"models"``), else looked for."""
    return bool(program["models"]) if "models" in program else models.has_marker(inputs)


def _case_msg(case_id: int, program: dict, limit: float, served: bool) -> dict:
    """A case's header; ``models`` when its inputs hold the judge's models, which the
    child then takes out and answers itself (:mod:`.serving`)."""
    msg = {"op": "case", "id": case_id, "program": program, "time_limit": limit}
    if served:
        msg["models"] = True
    return msg


def boot(script: str) -> str:
    """``python -c`` code that runs ``script`` as ``__main__`` from its compiled code, where
    that is at hand and current: Python compiles a script named on its command line on
    every start (child.py: ~8 ms), but not a module it loads. ``sys.argv[1:]`` are the
    arguments that follow, as they would be for the script."""
    return ("import importlib.util as u, sys\n"
            f"s = u.spec_from_file_location('__main__', {script!r})\n"
            "m = u.module_from_spec(s)\nsys.modules['__main__'] = m\ns.loader.exec_module(m)\n")


def child_env() -> dict:
    """A clean environment: no secrets, one BLAS thread."""
    env = {k: os.environ[k] for k in KEEP_VARS if k in os.environ}
    env.update({k: "1" for k in THREAD_VARS})
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class Sandbox:
    """One candidate file loaded in one child process.

    Use as a context manager; :meth:`run` sends a case and waits for its result.
    After a backstop timeout the child is killed and restarted transparently.
    """

    def __init__(self, file: Path, entry_points: list[dict], forbidden: list[str], limits: Limits,
                 isolate: bool = False, within: Path | None = None, source: str | None = None,
                 track: str = "numpy", torch_forbidden: list[str] | None = None):
        self.file = Path(file)
        self.entry_points = entry_points
        self.forbidden = forbidden
        self.limits = limits
        self.isolate = isolate          # run inside bubblewrap (see mhajudge.sandbox.isolation)
        self.within = within            # a folder the file must really be in (grade's)
        self.source = source            # the file's text, when the caller has read it already
        # The name tracebacks show: as given when the caller read the text, else the real path.
        self.shown_name = str(self.file) if source is not None else None
        self.track = track              # "numpy" or "torch" (see mhajudge.track)
        self.torch_forbidden = list(torch_forbidden or [])
        self.proc: subprocess.Popen | None = None
        self.loaded: Loaded | None = None
        self.captures: list[_Capture] = []
        self.started = time.monotonic()
        self.uid: int | None = None
        self.tmpdir: str | None = None
        self.group: cgroup.Group | None = None
        self.ended = False              # the child's channel closed (see reload)
        self.ahead = None               # (case id, time limit, program, inputs) of a case sent before its turn

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        """Start the child and send it the load request; do not wait."""
        from ..source import SourceError, read_source

        with _LIVE_LOCK:  # registered before anything is made, so stop_all can undo all of it
            if _STOPPED.is_set():
                raise Stopped("the judge is stopping")
            _LIVE.add(self)

        try:
            source = self.source if self.source is not None else read_source(self.file, within=self.within)
        except SourceError as exc:
            self.loaded = Loaded(False, "load-error", clean(str(exc)))
            return
        if not self._adopt():
            self._spawn()
        self.source = source
        self._send_load()

    def _adopt(self) -> bool:
        """Take over the child :func:`prestart` started, if it was started as this one would be."""
        global _PRESTARTED
        with _LIVE_LOCK:
            pre, _PRESTARTED = _PRESTARTED, None
            if pre is None:
                return False
            # Started alike: the same isolation and memory limit, and, isolated, the same view
            # (the torch track's binds torch back in); in plain mode a track is only a load's.
            if (pre.isolate, pre.limits.memory_bytes) != (self.isolate, self.limits.memory_bytes) \
                    or (self.isolate and pre.track != self.track) or pre.proc is None or pre.proc.poll() is not None:
                _PRESTARTED = pre  # someone else's; close() at exit
                return False
            _LIVE.discard(pre)
        for name in ("proc", "cmd_w", "res_r", "uid", "tmpdir", "group", "captures"):
            setattr(self, name, getattr(pre, name))
            setattr(pre, name, None)
        return True

    def _spawn(self) -> None:
        """Start the child process; it imports NumPy and waits for a load."""
        from . import isolation

        self.ended = False
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()
        # As root, the candidate runs as a fresh uid of its own: it cannot touch the
        # judge, a process-count limit binds, and close() kills all it started.
        dropping = isolation.is_root() and (self.isolate or isolation.others_can_run_python())
        self.uid = isolation.allocate_uid() if dropping else None
        if not self.isolate:
            self.tmpdir = tempfile.mkdtemp(prefix="mhajudge-")
            if self.uid is not None:
                os.chown(self.tmpdir, self.uid, self.uid)
        # The child's last two arguments: the judge's pid (if the judge dies, even by
        # SIGKILL, the child hears of it and cleans up) and the case folder it removes then.
        child = f"{INNER}/{CHILD.name}" if self.isolate else str(CHILD)
        if not self.isolate:  # bubblewrap's view binds them itself
            isolation.compiled_beside(CHILD_FILES)
        cmd = [sys.executable, "-I", "-B", "-c", boot(child), str(cmd_r), str(res_w), str(self.limits.memory_bytes),
               str(-1 if self.uid is None else self.uid), str(0 if self.uid is None else PROCESS_LIMIT),
               str(0 if self.isolate else os.getpid()), self.tmpdir or ""]
        cwd = self.tmpdir  # bubblewrap's private /tmp when isolated
        if self.isolate:
            cmd = isolation.bwrap_prefix(CHILD_FILES, torch=self.track == "torch") + cmd
        # One control group for all the submission's processes, where the machine has them.
        self.group = cgroup.Group(self.limits.memory_bytes, PROCESS_LIMIT + 8)
        cmd = self.group.wrap(cmd)
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            # The child sets its own limits before any candidate code runs: no
            # preexec_fn, which is unsafe when `grade` starts children from threads.
            pass_fds=(cmd_r, res_w), env=child_env(), start_new_session=True, cwd=cwd,
        )
        os.close(cmd_r)
        os.close(res_w)
        self.captures = [_Capture(self.proc.stdout, self.limits.capture_bytes),
                         _Capture(self.proc.stderr, self.limits.capture_bytes)]
        for c in self.captures:
            c.start()

    @property
    def sent_source(self) -> str | None:
        """The source the child holds now, line for line (divergence reads its lines)."""
        return self.source

    def _send_load(self) -> None:
        self._send({"op": "load", "file": self.shown_name or str(self.file.resolve()),
                    "source": self.source,
                    "time_limit": self.limits.load_time_s,
                    "entry_points": self.entry_points, "forbidden": self.forbidden,
                    "track": self.track, "torch_forbidden": self.torch_forbidden})

    def reload(self, source: str) -> None:
        """Judge a new version of the file in the same warm child (``--watch``, ``practice``).

        The child is the trusted zygote: it never ran candidate code, so a new load
        there is as clean as a new child, and saves the interpreter's and NumPy's start
        (each case still runs in its own fresh fork). The time budget and what the
        candidate printed start again.
        """
        if self.ahead is not None:  # an answer still on its way belongs to the old source
            ahead, self.ahead = self.ahead, None
            self._drain(ahead[1])
        self.source = source
        self.loaded = None
        self.started = time.monotonic()
        for c in self.captures:
            c.reset()
        if self.proc is None or self.ended or self.proc.poll() is not None:  # killed by the last version
            self._restart()
            self.start()
            return
        try:
            self._send_load()
        except (BrokenPipeError, OSError):
            self._restart()
            self.start()

    def wait_loaded(self) -> Loaded:
        if self.loaded is None:
            reply = self._receive(self.limits.load_time_s + 5.0)
            if reply is None:
                self.loaded = Loaded(False, "time-limit",
                                     f"importing the file took more than {self.limits.load_time_s:g} s "
                                     "(is there a loop at the top level?)")
            elif isinstance(reply, str):
                self.loaded = Loaded(False, "load-error", f"the file could not be imported: {reply}")
            else:
                self.loaded = probe_loaded(reply[0], self.limits.load_time_s, self.entry_points)
        return self.loaded

    def close(self) -> None:
        self.ahead = None
        with _LIVE_LOCK:
            _LIVE.discard(self)
        if self.proc is None:
            self._cleanup()
            return
        from .isolation import kill_tree

        kill_tree(self.proc.pid)  # detached or not, all it started is below it
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.uid is not None:
            from .isolation import kill_uid

            kill_uid(self.uid)  # whatever it started, detached or not
        if self.group is not None:  # and whatever is left in its control group: a candidate that
            self.group.kill()       # killed the child and detached a process is found here
        for fd in (self.cmd_w, self.res_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for capture, stream in zip(self.captures or [None, None], (self.proc.stdout, self.proc.stderr)):
            # A process out of reach (no uid or control group of its own to find it by) may
            # still hold the pipe: closing a stream its reader thread is blocked on would
            # wait for that thread for good. Such a stream is left to the (daemon) thread.
            if capture is not None:
                capture.join(timeout=CAPTURE_JOIN_S)
                if capture.is_alive():
                    continue
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None
        self._cleanup()

    def _cleanup(self) -> None:
        if self.group is not None:
            self.group.remove()
            self.group = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def output(self) -> tuple[str, str]:
        """What the candidate printed (capped)."""
        if not self.captures:
            return "", ""
        room = self.limits.capture_bytes + 100  # what was kept, and the line saying how much was not
        return clean(self.captures[0].text(), room), clean(self.captures[1].text(), room)

    # -- cases ---------------------------------------------------------------
    def time_left(self) -> float:
        return self.limits.total_time_s - (time.monotonic() - self.started)

    def _limit(self, time_limit: float | None) -> float:
        limit = time_limit or 10.0
        if self.limits.case_time_s:
            limit = min(limit, self.limits.case_time_s)
        return min(limit, max(self.time_left(), 0.0))

    def run(self, case_id: int, program: dict, inputs: dict, time_limit: float | None = None,
            read=None, then: tuple | None = None) -> RunResult:
        """Run one case; ``read(msg, payload)`` reads the reply instead of :func:`case_result`
        (a traced run's, see :mod:`.traces`).

        ``then``: the next case the caller will run, ``(case_id, program, inputs,
        time_limit)``. It is sent as soon as this case's answer is in, so the child runs
        it while this answer is vetted and checked; the next :meth:`run` of that case
        only waits for it. A memory-measured case is never overlapped (the control
        group's peak would hold both), nor is one after an answer that did not come.
        """
        served = _served(program, inputs)
        ahead, self.ahead = self.ahead, None
        if ahead is not None and (ahead[0] != case_id or ahead[2] is not program or ahead[3] is not inputs
                                  or read is not None):
            self._drain(ahead[1])  # sent for a turn that did not come
            ahead = None
        if ahead is not None:
            limit, group_base = ahead[1], None
        else:
            limit = self._limit(time_limit)
            if limit <= 0:
                return RunResult("time-limit", message=f"the submission used up its {self.limits.total_time_s:g} s budget")
            if self.proc is None:
                self.start()
                self.loaded = None
            loaded = self.wait_loaded()
            if not loaded.ok:
                return RunResult("runtime-error", message=f"the file no longer imports: {loaded.message}")
            # The memory the whole submission holds during a memory-measured case, from its
            # control group: what no process maps (a memfd, a file in /tmp) counts too.
            group_base = self.group.usage() if program.get("memory") and self.group and self.group.reset_peak() else None
            try:
                self._send(_case_msg(case_id, program, limit, served), inputs)
            except (BrokenPipeError, OSError):
                self._restart()
                return RunResult("runtime-error", message="the child process died (did the code kill it?)")
        reply = self._receive(limit + 5.0)
        if reply is None:
            self._restart()
            return RunResult("time-limit", message=f"still running after {limit:g} s")
        if isinstance(reply, str):
            oom = self.group is not None and self.group.oom_killed()
            self._restart()
            if oom:
                return RunResult("memory-limit", message=f"the submission's processes went over its memory "
                                                         f"limit of {self.limits.memory_bytes / 2**30:g} GiB in all")
            return RunResult("runtime-error", message=reply)
        msg, payload = reply
        if msg.get("op") != "result" or msg.get("id") != case_id:
            self._restart()
            return RunResult("runtime-error", message="the child answered out of turn")
        if then is not None and read is None and not program.get("memory") and "ended" not in msg:
            self._send_ahead(*then)
        peak = self.group.peak() if group_base is not None else None
        if peak is not None and isinstance(msg.get("measured"), dict):
            msg["measured"]["group_bytes"] = peak - group_base
            msg["measured"]["input_bytes"] = _nbytes(inputs)
        if read is not None:
            return read(msg, payload)
        timed = len(inputs["steps"]) if programs.timed(program) else None
        return case_result(msg, payload, program, limit, expected_leaves(program, inputs), served=served, timed=timed)

    def _send_ahead(self, case_id: int, program: dict, inputs: dict, time_limit: float | None) -> None:
        limit = self._limit(time_limit)
        if limit <= 0 or program.get("memory"):
            return
        try:
            self._send(_case_msg(case_id, program, limit, _served(program, inputs)), inputs)
        except OSError:
            return  # its own run finds the child gone
        self.ahead = (case_id, limit, program, inputs)  # taken only by a run of this very case

    def _drain(self, limit: float) -> None:
        """Read and drop the answer to a case sent ahead whose turn did not come."""
        reply = self._receive(limit + 5.0)
        if reply is None or isinstance(reply, str):
            self._restart()

    def _restart(self) -> None:
        self.ahead = None
        self.close()
        self.loaded = None

    # -- frames --------------------------------------------------------------
    def _send(self, msg: dict, payload=None) -> None:
        wire.write_frame(self.cmd_w, wire.pack(msg, payload))

    def _receive(self, timeout: float):
        """A frame, ``None`` on timeout, or an error string."""
        import select

        ready, _, _ = select.select([self.res_r], [], [], max(timeout, 0.0))
        if not ready:
            return None
        try:
            return wire.read_frame(self.res_r, self.limits.output_bytes)
        except EOFError:
            self.ended = True  # its channel is closed: it is dead or dying, whatever poll() says yet
            code = self.proc.poll() if self.proc else None
            return ("the process ended before answering"
                    + (f" (exit status {code})" if code is not None else "")
                    + "; is there a sys.exit(), os._exit() or a kill in the code?")
        except wire.WireError as exc:
            return str(exc)
