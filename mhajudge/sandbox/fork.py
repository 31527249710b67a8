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
import socket
import sys
import time

FRAME_CAP = 320 << 20  # bytes read from one case before it is stopped: more than any answer the judge takes
STARTED = b"\x06"  # what a spare writes once it has its case's frame, before any candidate code


class Forker:
    """Runs work in a forked process and watches it (one per child).

    A case's process can also be forked ahead, as a *spare* (:meth:`fork_spare`),
    while the judge checks the previous answer: it gets ready (``prepare``, such as
    filling free memory with NaN) and waits for its case's frame on a pipe of its own,
    which :meth:`run_sent` hands it. No candidate code runs in it before then.
    """

    def __init__(self, wire, close_fds: tuple = (), prepare=None, channel: list | None = None):
        self.wire = wire
        self.close_fds = close_fds  # the child's channels to the judge: closed in every fork
        self.prepare = prepare or (lambda: None)  # what a spare does while it waits
        self.channel = channel if channel is not None else [None]  # a spare's socket to us, set in the spare
        self.base_cpu_s = 0.0       # the CPU time of a fork that does nothing
        self.spare_cpu_s = 0.0      # ... and of a spare that gets ready and is given nothing
        self.reaped = [0.0, 0]      # CPU seconds and peak bytes of the processes reaped after a case
        self.spare = None           # (pid, case pipe, answer pipe, marker, our end of its socket) of the next case's process
        self.spare_lost = False     # it died and was reaped (a case killed it)

    def calibrate(self) -> None:
        """Measure what an empty fork costs, and an idle spare (the least of three)."""
        self.drop_spare()
        self.base_cpu_s = min(null_fork()[0] for _ in range(3))
        self.spare_cpu_s = min(null_fork(self.prepare)[0] for _ in range(3))

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
        self.drop_spare()  # the sweep after this run would take it
        measured = {"base_cpu_s": self.base_cpu_s}
        if baseline:
            measured["base_rss_bytes"] = null_fork()[1]
        r, w = os.pipe()
        marker = os.urandom(16)
        start = time.perf_counter()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:  # the submission's processes are at their limit
            os.close(r)
            os.close(w)
            return _not_forked(measured)
        if pid == 0:  # grandchild: from here on, candidate code may run
            self._enter(parent, (r,))
            self._answer(w, marker, work)
        os.close(w)
        return self._watch(r, pid, marker, start, limit, measured)

    def fork_spare(self, serve, close: tuple = ()) -> None:
        """Fork the next case's process now: it prepares, then waits for a frame and
        answers ``serve(msg, payload)`` of it. Forked as soon as a case's process has
        its frame, so the fork and the preparing happen while that case runs and the
        judge checks its answer; ``close``: that case's pipe and socket, not the spare's
        to hold. The spare also gets a socket to this process (``channel[0]`` in it),
        over which its case's calls to the judge's models are answered
        (:mod:`.serving`)."""
        self.drop_spare()
        r, w = os.pipe()      # its answer, as in :meth:`run`
        cr, cw = os.pipe()    # its case
        ours, theirs = socket.socketpair()  # its calls to the judge's models, if its case has any
        marker = os.urandom(16)
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:  # the case running now used up the processes it may have: no spare
            for fd in (r, w, cr, cw):
                os.close(fd)
            ours.close()
            theirs.close()
            return
        if pid == 0:  # no candidate code runs here until the frame has come
            self._enter(parent, (r, cw, ours) + close)
            self.channel[0] = theirs
            try:
                self.prepare()
                frame = _read_all(cr)
                os.close(cr)
                os.write(w, STARTED)  # it has its case: from here on, candidate code may run
            except BaseException:  # noqa: BLE001 - not given a case (dropped, or the child is gone)
                os._exit(0)
            self._answer(w, marker, lambda: serve(*self.wire.unpack(frame)))
        os.close(w)
        os.close(cr)
        theirs.close()
        self.spare = (pid, cw, r, marker, ours)

    def run_sent(self, frame: bytes, limit: float, serve, server=None) -> dict:
        """Hand ``frame`` to the spare (forked now if there is none) and watch it as
        :meth:`run` watches its grandchild; meanwhile the next spare is forked, with
        ``serve`` as what it runs. ``server(sock)``: what serves the case's process on
        our end of the spare's socket (a :class:`.serving.Server` for the judge's models,
        a :class:`.serving.Driver` for timed steps); what it measured is added to
        ``measured`` (``model_calls`` and ``model_rows``, or ``step_times``).

        The next spare lives while this case's candidate code runs, but was forked
        after it: it shares no pipe with it and, like every process here, is not
        dumpable (no ptrace, no /proc/PID/mem). A case that kills or stops it only
        fails its own submission's next case, which it could fail anyway.
        """
        # A spare killed just before it had its case (by the case before, as it ended: the kill
        # can land after the check that it lives) costs that case nothing: it runs once more, on
        # the spare forked meanwhile. Not a case with the judge's models or timed steps: a spare
        # forked once its frame is here could find what the frame holds (see serving.py).
        measured = {"base_cpu_s": self.spare_cpu_s}
        out = None
        for _ in range(2 if server is None else 1):
            if self.spare is None or self.spare_died():  # killed while it waited: reaped now, and replaced
                self.fork_spare(serve)
            if self.spare is None:  # no process could be forked
                return out or _not_forked(measured)
            spare, self.spare = self.spare, None
            out = self._run_spare(spare, frame, limit, serve, measured, server(spare[4]) if server else None)
            if not (out.get("ended") or {}).get("unstarted"):
                break
        return out

    def _run_spare(self, spare: tuple, frame: bytes, limit: float, serve, measured: dict, served) -> dict:
        pid, cw, r, marker, sock = spare
        if served is None:
            sock.close()
        start = time.perf_counter()
        try:
            _hand(cw, frame, start + limit)  # within its time: a spare the last case stopped cannot hold us
        except OSError:  # it died getting ready: what it left is read as any ending
            pass
        finally:
            os.close(cw)
        self.fork_spare(serve, close=(r, sock))
        try:
            return self._watch(r, pid, marker, start, limit, measured, served)
        finally:
            if served is not None:
                measured.update(served.measured())
                served.close()

    def spare_died(self) -> bool:
        """Has the spare ended while it waited? If so it is reaped now, and marked lost
        (its pid may soon be another process's: never signalled again)."""
        if self.spare is not None and not self.spare_lost and _account(self.spare[0], os.WNOHANG, None):
            self.spare_lost = True
        return self.spare_lost

    def drop_spare(self) -> None:
        """Kill the spare (the code changed, or a fork of another kind comes next)."""
        if self.spare is None:
            return
        pid, cw, r, _, sock = self.spare
        self.spare = None
        os.close(cw)
        os.close(r)
        sock.close()
        if not self.spare_lost:  # reaped already: its pid may be another process's now
            kill(pid)
            _account(pid, 0, None)
        self.spare_lost = False

    def _enter(self, parent: int, close: tuple) -> None:
        """The first steps of every case's process, before it runs anything else."""
        die_with_parent(parent)
        for fd in close + tuple(self.close_fds):  # the candidate cannot talk to the judge directly
            if isinstance(fd, socket.socket):
                fd.close()
            else:
                os.close(fd)
        try:
            os.setpgid(0, 0)
        except OSError:
            pass

    def _answer(self, w: int, marker: bytes, work) -> None:
        """In a case's process: run ``work()``, write its marked frame, exit."""
        try:
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

    def _watch(self, r: int, pid: int, marker: bytes, start: float, limit: float, measured: dict,
               served=None) -> dict:
        self.reaped = [0.0, 0]
        try:
            out = self._collect(r, pid, marker, start, limit, served)
        finally:
            os.close(r)
            keep = self.spare[0] if self.spare else None
            if reap_all(self.reaped, keep=keep):
                self.spare_lost = True
        cpu, rss = out.pop("usage")
        measured.update(wall_s=out.pop("wall_s"), cpu_s=cpu + self.reaped[0], rss_bytes=max(rss, self.reaped[1]))
        out["measured"] = measured
        return out

    def _collect(self, r: int, pid: int, marker: bytes, start: float, limit: float, served=None) -> dict:
        """Read the grandchild's marked frame, or kill it when time runs out; meanwhile
        answer its calls to the judge's models (``served``, see :meth:`run_sent`)."""
        found = FrameFinder(marker, self.wire)
        deadline = start + limit
        exited = None
        out: dict = {"reply": None}
        while (frame := found.frame()) is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                out["ended"] = {"status": "time-limit", "limit_s": limit}
                break
            sending = served is not None and served.wants_write()
            listen = [r] if served is None or served.closed or sending else [r, served.sock]  # a reply waits: not read
            ready, writable, _ = select.select(listen, [served.sock] if sending else [], [], min(left, 0.05))
            if served is not None and (writable or served.sock in ready):
                try:
                    if writable:
                        served.on_writable(deadline)
                    if not served.closed and served.sock in ready:
                        served.on_readable(deadline)
                except Exception:  # noqa: BLE001 - what the case sent must never bring this process down
                    served.close()
                ready = [fd for fd in ready if fd is not served.sock]
                if not ready:
                    continue
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
            if not found.data:  # a spare says STARTED once it has its case: this one never had it
                out["ended"]["unstarted"] = True
        return out

def _not_forked(measured: dict) -> dict:
    """What :meth:`Forker.run` returns when no process could be forked for the case."""
    return {"reply": None, "ended": {"status": "runtime-error", "why": "fork"},
            "measured": {**measured, "wall_s": 0.0, "cpu_s": 0.0, "rss_bytes": 0}}


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


def null_fork(prepare=None) -> tuple[float, int]:
    """What a grandchild that does nothing (but ``prepare()``) costs: CPU seconds and
    peak resident bytes."""
    pid = os.fork()
    if pid == 0:
        try:
            if prepare is not None:
                prepare()
        finally:
            os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def _hand(fd: int, frame: bytes, deadline: float) -> None:
    """Write ``frame`` to a spare's pipe, giving up at ``deadline`` (it is then killed as
    any case that runs out of time)."""
    os.set_blocking(fd, False)
    view = memoryview(frame)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            select.select([], [fd], [], min(left, 0.05))


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def reap_all(reaped: list | None = None, budget_s: float = 2.0, keep: int | None = None) -> bool:
    """Kill and reap every process still below us after a case but ``keep`` (the next
    case's spare), adding what each used to ``reaped`` (CPU seconds, the largest peak
    resident bytes); whether ``keep`` itself had died and was reaped.

    The whole tree at once, stopped before it is killed (so nothing forks meanwhile):
    this process is a subreaper, so what the case started, even detached with setsid
    or a double fork, is below it; a chain of any depth goes in one sweep, and what
    its members leave as zombies is reparented here and reaped.
    """
    end = time.monotonic() + budget_s
    me = os.getpid()
    lost = False
    while True:
        # Everything below us is below one of our children: with none but the spare
        # (which has none), the /proc walk (every process on the machine) is not needed,
        # the common case after a case.
        found = [p for p in descendants(me) if p != keep] if _has_children(me, keep) else []
        if found:
            sweep(lambda: found, rounds=1)
        while done := _account(-1, os.WNOHANG, reaped):
            lost = lost or done == keep
        if not found or time.monotonic() > end:
            return lost
        time.sleep(0.0005)  # the killed become zombies, and theirs are reparented here, in a moment


def _has_children(pid: int, but: int | None = None) -> bool:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return any(int(c) != but for c in f.read().split())
    except (OSError, ValueError):
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


def _account(pid: int, options: int, reaped: list | None) -> int:
    """Reap ``pid`` (or any child), adding what it used to ``reaped``; the pid reaped, or 0."""
    try:
        done, _, usage = os.wait4(pid, options)
    except ChildProcessError:
        return 0
    if done and reaped is not None:
        reaped[0] += usage.ru_utime + usage.ru_stime
        reaped[1] = max(reaped[1], usage.ru_maxrss * 1024)
    return done
