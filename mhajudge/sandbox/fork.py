"""One case's process: forked by the trusted child, watched from outside.

Candidate code runs only in such a process. What it sends back is read as hostile
input by the judge (:mod:`mhajudge.sandbox.replies`); what this module observes from
outside is trusted: whether the process answered in time, how it ended, and what it
and every process below it used (``wait4``: CPU time, peak resident memory), so
the judge can bound what the candidate claims. Standard library only: the child
loads this file by path.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time

FRAME_CAP = 320 << 20  # bytes read from one case before it is stopped: more than any answer the judge takes


class Forker:
    """Runs work in a forked process and watches it (one per child)."""

    def __init__(self, wire, close_fds: tuple = ()):
        self.wire = wire
        self.close_fds = close_fds  # the child's channels to the judge: closed in every fork
        self.base_cpu_s = 0.0       # the CPU time of a fork that does nothing
        self.reaped = [0.0, 0]      # CPU seconds and peak bytes of the processes reaped after a case

    def calibrate(self) -> None:
        """Measure what an empty fork costs (the least of three)."""
        self.base_cpu_s = min(null_fork()[0] for _ in range(3))

    def run(self, work, limit: float, baseline: bool = False) -> dict:
        """Run ``work()`` in a forked grandchild: ``{"reply", "payload", "ended", "measured"}``.

        Everything the grandchild sends (``reply`` and ``payload``) is the candidate's
        to forge: candidate code runs in that process and can find the marker and the
        pipe. The judge reads it as hostile input. What this trusted process observed
        from outside is in ``ended`` (set when no reply came: a kill, an exit, the time
        limit) and ``measured`` (wall clock, the CPU time and peak resident memory of
        the grandchild and of every process below it, from ``wait4``). With
        ``baseline``, a grandchild that does nothing is measured first, so the judge
        can subtract what a fork costs.
        """
        measured = {"base_cpu_s": self.base_cpu_s}
        if baseline:
            measured["base_rss_bytes"] = null_fork()[1]
        r, w = os.pipe()
        marker = os.urandom(16)
        self.reaped = [0.0, 0]
        start = time.perf_counter()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # grandchild: from here on, candidate code may run
            die_with_parent(parent)
            os.close(r)
            for fd in self.close_fds:  # the candidate cannot talk to the judge directly
                os.close(fd)
            try:
                os.setpgid(0, 0)
                reply, payload = work()
                frame = self.wire.pack(reply, payload)
            except MemoryError:
                frame = self.wire.pack({"status": "memory-limit", "message": "ran out of memory"})
            except BaseException as exc:  # noqa: BLE001
                frame = self.wire.pack({"status": "runtime-error",
                                        "message": f"the answer could not be sent: {exc!r}"[:500]})
            for stream in (sys.stdout, sys.stderr):  # what it printed reaches the judge's capture
                try:
                    stream.flush()
                except BaseException:  # noqa: BLE001 - a candidate may have replaced or closed it
                    pass
            try:
                self.wire.write_frame(w, marker + frame)
            finally:
                os._exit(0)
        os.close(w)
        try:
            out = self._collect(r, pid, marker, start, limit)
        finally:
            os.close(r)
            reap_all(self.reaped)
        cpu, rss = out.pop("usage")
        measured.update(wall_s=out.pop("wall_s"), cpu_s=cpu + self.reaped[0], rss_bytes=max(rss, self.reaped[1]))
        out["measured"] = measured
        return out

    def _collect(self, r: int, pid: int, marker: bytes, start: float, limit: float) -> dict:
        """Read the grandchild's marked frame, or kill it when time runs out."""
        found = FrameFinder(marker, self.wire)
        deadline = start + limit
        exited = None
        out: dict = {"reply": None}
        while (frame := found.frame()) is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                out["ended"] = {"status": "time-limit", "limit_s": limit}
                break
            ready, _, _ = select.select([r], [], [], min(left, 0.05))
            if ready:
                chunk = os.read(r, 1 << 20)
                if chunk and len(found.data) < FRAME_CAP:
                    found.data += chunk
                    continue
                if chunk:  # far more than any answer: stop reading, it will be killed
                    out["ended"] = {"status": "runtime-error", "why": "flood"}
                    break
            if exited is not None:
                break  # it has ended and nothing more came: no frame
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                exited = (status, usage)  # look once more: its frame may have landed after the select
        out["wall_s"] = time.perf_counter() - start
        if exited is None:  # a reply, a flood or the time limit: the grandchild goes now
            kill(pid)
            _, status, usage = os.wait4(pid, 0)
            exited = (status, usage)
        status, usage = exited
        out["usage"] = (usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)
        if frame is not None:
            try:
                reply, payload = self.wire.unpack(frame)
            except Exception as exc:  # noqa: BLE001
                out["ended"] = {"status": "runtime-error", "why": "unreadable", "error": str(exc)[:300]}
                return out
            out["reply"] = reply
            if payload is not None:
                out["payload"] = payload
            return out
        if "ended" not in out:
            if os.WIFSIGNALED(status):
                out["ended"] = {"status": "signal", "signal": os.WTERMSIG(status)}
            else:
                out["ended"] = {"status": "exited", "code": os.WEXITSTATUS(status)}
        return out

def _libc_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()  # looked up once here, not in every case's process (0.4 ms each)


def die_with_parent(parent: int) -> None:
    """If the trusted process dies (killed by its own case, say), this case's process
    dies with it (PR_SET_PDEATHSIG), rather than live on under whichever process
    adopts it: it must never run on, or signal, outside its sandbox's tree."""
    if _PRCTL is not None:
        _PRCTL(1, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)


HUGE = 1 << 21        # a transparent huge page (x86-64, arm64 with 4 KiB pages)
MADV_COLLAPSE = 25    # Linux 6.1 and later


def collapse_to_huge_pages(budget_s: float = 0.6) -> int:
    """Back this process's anonymous writable memory with huge pages; the bytes collapsed.

    What a fork costs, and what the exit of a forked process costs, grows with the
    page-table entries of private memory: about 20 ms each way for a process that
    has loaded torch (146 MB of heap and anonymous memory), against 7 ms once that
    memory is in 2 MiB pages (one entry each, shared copy-on-write; a page written
    by the case is split and copied alone, 4 KiB). Only what is resident now is
    collapsed (``MADV_COLLAPSE``; the regions are not flagged for huge pages, so the
    case's own allocations stay in small pages and its memory is measured as before).
    Best effort: an older kernel, no huge page free, or the budget spent, and the
    rest stays as it is.
    """
    try:
        import ctypes

        madvise = ctypes.CDLL(None, use_errno=True).madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        with open("/proc/self/maps") as f:
            maps = f.read().splitlines()
    except (OSError, AttributeError):
        return 0
    end = time.monotonic() + budget_s
    done = 0
    for line in maps:
        fields = line.split()
        if len(fields) < 5 or "w" not in fields[1] or (len(fields) > 5 and fields[5] != "[heap]"):
            continue  # anonymous writable memory and the heap only
        lo, hi = (int(x, 16) for x in fields[0].split("-"))
        lo, hi = (lo + HUGE - 1) & ~(HUGE - 1), hi & ~(HUGE - 1)
        for at in range(lo, hi, 16 * HUGE):  # in steps, so the budget is kept
            if time.monotonic() > end:
                return done
            size = min(16 * HUGE, hi - at)
            if madvise(at, size, MADV_COLLAPSE) == 0:
                done += size
            elif ctypes.get_errno() == 22 and at == lo:  # EINVAL: not this region (or not this kernel)
                break
    return done


def kill(pid: int) -> None:
    """SIGKILL a case's process and its process group."""
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


class FrameFinder:
    """The frame after ``marker`` in what a case's process wrote, found as data arrives.

    Each chunk is looked at once: the marker is searched for only in what is new,
    and once the frame's header is in, nothing is parsed again until the whole
    frame has come (an answer of many MiB arrives in thousands of pipe-sized reads).
    """

    def __init__(self, marker: bytes, wire):
        self.marker, self.wire = marker, wire
        self.data = bytearray()
        self.at = -1          # where the frame starts, once the marker is seen
        self.scanned = 0      # how far the marker was searched for
        self.size = None      # the frame's whole length, once its header is in

    def frame(self) -> bytes | None:
        if self.at < 0:
            found = self.data.find(self.marker, max(0, self.scanned - len(self.marker) + 1))
            self.scanned = len(self.data)
            if found < 0:
                return None
            self.at = found + len(self.marker)
        have = len(self.data) - self.at
        if self.size is None:
            if have < 8:
                return None
            header = int.from_bytes(self.data[self.at:self.at + 8], "little")
            if header > self.wire.MAX_HEADER:  # not ours: let the reader say what is wrong
                return bytes(self.data[self.at:])
            if have < 8 + header:
                return None
            self.size = self.wire.frame_size(bytes(self.data[self.at:self.at + 8 + header]))
        return bytes(self.data[self.at:self.at + self.size]) if have >= self.size else None


def null_fork() -> tuple[float, int]:
    """What a grandchild that does nothing costs: CPU seconds and peak resident bytes."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def reap_all(reaped: list | None = None, budget_s: float = 2.0) -> None:
    """Kill and reap every process still below us after a case, adding what each
    used to ``reaped`` (CPU seconds, the largest peak resident bytes).

    The whole tree at once, stopped before it is killed (so nothing forks meanwhile):
    this process is a subreaper, so what the case started, even detached with setsid
    or a double fork, is below it; a chain of any depth goes in one sweep, and what
    its members leave as zombies is reparented here and reaped.
    """
    end = time.monotonic() + budget_s
    me = os.getpid()
    while True:
        # Everything below us is below one of our children: with none, the /proc walk
        # (every process on the machine) is not needed, the common case after a case.
        found = descendants(me) if _has_children(me) else []
        if found:
            sweep(lambda: found, rounds=1)
        while _account(-1, os.WNOHANG, reaped):
            pass
        if not found or time.monotonic() > end:
            return
        time.sleep(0.0005)  # the killed become zombies, and theirs are reparented here, in a moment


def _has_children(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return bool(f.read().split())
    except OSError:
        return True  # cannot tell: walk the tree


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` in the process tree (children first)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def sweep(find, rounds: int) -> None:
    """Stop, then kill, the processes ``find()`` names, until none is left.

    Stopping them all first means none can fork while the others are killed.
    """
    for _ in range(rounds):
        pids = find()
        if not pids:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for p in pids:
                try:
                    os.kill(p, sig)
                except (ProcessLookupError, PermissionError):
                    pass


def _account(pid: int, options: int, reaped: list | None) -> bool:
    """Reap ``pid`` (or any child), adding what it used to ``reaped``."""
    try:
        done, _, usage = os.wait4(pid, options)
    except ChildProcessError:
        return False
    if done and reaped is not None:
        reaped[0] += usage.ru_utime + usage.ru_stime
        reaped[1] = max(reaped[1], usage.ru_maxrss * 1024)
    return bool(done)
