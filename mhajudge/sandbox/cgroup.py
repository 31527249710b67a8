"""A control group per submission: one memory bound and one process bound for all it starts.

The child's address-space limit (``RLIMIT_AS``) binds each process alone: several
forked processes, or a memfd, hold more than it. Where the machine lets the judge
make control groups (root in a container often can; cgroup v2 with ``memory`` and
``pids`` delegated, or cgroup v1's ``memory`` and ``pids`` hierarchies), each
submission gets its own: ``memory.max`` / ``memory.limit_in_bytes`` and
``pids.max`` then bound the submission as a whole, and the kernel's OOM killer
stops it inside its group. Elsewhere the bound stays per process (``--help`` and
the README say so).

The child joins its group before it starts (a shell writes its own pid into the
group, then execs the child), so nothing the candidate starts is ever outside it.
"""

from __future__ import annotations

import functools
import os
import secrets
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "mhajudge-"


def _own_path(controller: str) -> str | None:
    """This process's cgroup path for a v1 ``controller``, or for v2 (``""``)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if controller == "" and parts[0] == "0" and parts[1] == "":
            return parts[2]
        if controller and controller in parts[1].split(","):
            return parts[2]
    return None


def _writable(d: Path) -> bool:
    return d.is_dir() and os.access(d, os.W_OK)


@functools.lru_cache(maxsize=None)
def layout() -> tuple[str, dict[str, Path]] | None:
    """("v2" or "v1", {controller: parent folder}) where groups can be made here, else None."""
    v2 = _own_path("")
    if v2 is not None and (ROOT / "cgroup.controllers").is_file():
        parent = ROOT / v2.lstrip("/")
        try:
            enabled = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            enabled = []
        if {"memory", "pids"} <= set(enabled) and _writable(parent):
            return "v2", {"memory": parent, "pids": parent}
    found = {}
    for controller in ("memory", "pids"):
        own = _own_path(controller)
        base = ROOT / controller
        for candidate in ([base / own.lstrip("/")] if own else []) + [base]:
            if _writable(candidate) and (candidate / "cgroup.procs").exists():
                found[controller] = candidate
                break
    return ("v1", found) if len(found) == 2 else None


def why_not() -> str | None:
    """None when submissions get a control group each; else why not, for --help and notes."""
    return None if layout() else "control groups cannot be made here, so memory and process limits bind each process"


class Group:
    """One submission's control group (or nothing, where the machine has none to give)."""

    def __init__(self, memory_bytes: int, max_pids: int):
        self.dirs: list[Path] = []
        self.version = None
        found = layout()
        if not found:
            return
        self.version, parents = found
        _remove_stale_once()
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            for controller in ("memory", "pids"):
                d = parents[controller] / name
                if d not in self.dirs:
                    d.mkdir()
                    self.dirs.append(d)
            if self.version == "v2":
                (self.dirs[0] / "memory.max").write_text(str(memory_bytes))
                (self.dirs[0] / "memory.swap.max").write_text("0") if (self.dirs[0] / "memory.swap.max").exists() else None
                (self.dirs[0] / "pids.max").write_text(str(max_pids))
            else:
                (self.dirs[0] / "memory.limit_in_bytes").write_text(str(memory_bytes))
                (self.dirs[1] / "pids.max").write_text(str(max_pids))
        except OSError:
            self.remove()
            self.dirs = []

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` run inside the group: a shell joins it, then execs ``cmd``."""
        if not self.dirs:
            return cmd
        joins = " && ".join(f'echo $$ > "${i + 1}"' for i in range(len(self.dirs)))
        script = f'{joins} && shift {len(self.dirs)} && exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *[str(d / "cgroup.procs") for d in self.dirs], *cmd]

    def _memory_file(self, v2: str, v1: str) -> Path | None:
        return (self.dirs[0] / (v2 if self.version == "v2" else v1)) if self.dirs else None

    def usage(self) -> int | None:
        """The memory the group holds now (resident, page cache, shared memory and memfds alike)."""
        return _read_int(self._memory_file("memory.current", "memory.usage_in_bytes"))

    def reset_peak(self) -> bool:
        """Start measuring a new peak (cgroup v1; v2 from Linux 6.12). False where it cannot."""
        path = self._memory_file("memory.peak", "memory.max_usage_in_bytes")
        try:
            path.write_text("0" if self.version == "v1" else "1")
            return True
        except (OSError, AttributeError):
            return False

    def peak(self) -> int | None:
        """The most memory the group held since the last :meth:`reset_peak`."""
        return _read_int(self._memory_file("memory.peak", "memory.max_usage_in_bytes"))

    def pids(self) -> list[int]:
        out = set()
        for d in self.dirs:
            try:
                out.update(int(x) for x in (d / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(out)

    def oom_killed(self) -> bool:
        """Did the kernel kill a process of this group for going over its memory bound?"""
        if not self.dirs:
            return False
        name = "memory.events" if self.version == "v2" else "memory.oom_control"
        try:
            for line in (self.dirs[0] / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            pass
        return False

    def kill(self) -> None:
        """SIGKILL every process in the group, until none is left."""
        for _ in range(20):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)  # its last processes are still exiting


def _read_int(path: Path | None) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def remove_stale() -> None:
    """Groups left by a judge that was killed (its pid is in their name): remove the empty ones."""
    found = layout()
    if not found:
        return
    for parent in set(found[1].values()):
        try:
            entries = list(parent.glob(PREFIX + "*"))
        except OSError:
            continue
        for d in entries:
            try:
                pid = int(d.name[len(PREFIX):].split("-")[0])
            except ValueError:
                continue
            if pid != os.getpid() and not Path(f"/proc/{pid}").exists():
                try:
                    d.rmdir()
                except OSError:
                    pass


@functools.lru_cache(maxsize=None)
def _remove_stale_once() -> None:
    remove_stale()
