"""Operating-system isolation for the child: an unprivileged uid and bubblewrap.

Two layers, each used where the machine offers it:

- **An unprivileged uid of its own** (when the judge runs as root): the child
  drops to a fresh uid no other process uses. The candidate cannot signal or
  ptrace the judge, a process-count limit binds (it does not bind root), and
  when the sandbox closes every process still running under that uid is killed,
  however it detached itself (``setsid``, double fork).
- **bubblewrap** (``bwrap``): no network, a read-only view of only what Python
  and NumPy need, a private size-bounded ``/tmp``, and its own PID namespace,
  so killing the sandbox kills everything it started and the judge's processes
  are not even visible. The submission's file is not mounted: its source is sent
  over the pipe.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

UID_RANGE = (200_000, 900_000)  # far above any real account's uid
TMP_BYTES = 64 << 20             # the sandbox's private /tmp


def is_root() -> bool:
    return os.geteuid() == 0


def _process_uids() -> dict[int, tuple[int, ...]]:
    """Each running process's real, effective and saved uid, from /proc."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"Uid:"):
                        found[int(entry.name)] = tuple(int(x) for x in line.split()[1:4])
                        break
        except (OSError, ValueError):
            continue
    return found


def allocate_uid() -> int:
    """A uid that no running process has (so killing by uid kills only ours)."""
    used = {u for uids in _process_uids().values() for u in uids}
    rng = random.SystemRandom()
    while True:
        uid = rng.randrange(*UID_RANGE)
        if uid not in used:
            return uid


def _sweep(find, rounds: int) -> None:
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


def kill_uid(uid: int) -> None:
    """SIGKILL every process running as ``uid``."""
    _sweep(lambda: [pid for pid, uids in _process_uids().items() if uid in uids], rounds=5)


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


def kill_tree(pid: int) -> None:
    """SIGKILL everything below ``pid``: the child is a subreaper, so processes
    that detached with setsid or a double fork are still below it."""
    _sweep(lambda: descendants(pid), rounds=3)


@functools.lru_cache(maxsize=None)
def others_can_run_python() -> bool:
    """Can a uid with no rights of its own read the interpreter, stdlib and NumPy?

    (Not when Python lives under a private home such as /root, mode 0700: then
    only bubblewrap, which builds its own view of the tree, can drop privileges.)
    """
    for path in (sysconfig.get_paths()["stdlib"], str(_numpy_dir()), sys.executable):
        p = Path(path).resolve()
        for d in [p, *p.parents]:
            try:
                mode = d.stat().st_mode
            except OSError:
                return False
            if d.is_dir() and not mode & 0o001:
                return False
            if d == p and not mode & 0o004:
                return False
    return True


def _numpy_dir() -> Path:
    """Where NumPy is installed, found without importing it (that costs 0.1 s)."""
    import importlib.util

    return Path(importlib.util.find_spec("numpy").origin).resolve().parent


def _read_only_roots() -> list[str]:
    """What Python and NumPy need, read-only: the system, the interpreter, site-packages."""
    roots = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/alternatives",
             "/etc/ld.so.cache", "/etc/localtime"]
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"], str(_numpy_dir().parent),
             str(Path(sys.executable).resolve().parent.parent)}
    roots += sorted(p for p in paths if p)
    return [r for r in roots if os.path.exists(r)]


def bwrap_prefix(child_files: list[Path]) -> list[str]:
    """The command that runs the child inside bubblewrap.

    As root, bubblewrap mounts with root's rights and no user namespace, and the
    child then drops to its own uid inside (its view has no private /root, so
    the new uid can read Python). As another user, a user namespace does it.
    """
    if is_root():
        namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    else:
        namespaces = ["--unshare-all"]
    cmd = [shutil.which("bwrap") or "bwrap", *namespaces, "--die-with-parent", "--new-session",
           "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    roots = _read_only_roots() + [str(f) for f in child_files]
    # Parent folders bubblewrap would create as 0700 (so the dropped uid could
    # not walk through e.g. /root to a Python installed there): make them 0755.
    parents = sorted({str(p) for r in roots for p in Path(r).parents if str(p) != "/"},
                     key=lambda p: p.count("/"))
    for d in parents:
        if not any(d == r or d.startswith(r + "/") for r in roots):
            cmd += ["--perms", "0755", "--dir", d]
    for root in _read_only_roots():
        cmd += ["--ro-bind", root, root]
    # Hide an installed copy of the judge (and its bank) inside site-packages.
    import mhajudge

    package = Path(mhajudge.__file__).resolve().parent
    if any(str(package).startswith(r + os.sep) for r in _read_only_roots()):
        cmd += ["--tmpfs", str(package)]
    for f in child_files:
        cmd += ["--ro-bind", str(f), str(f)]
    cmd += ["--chdir", "/tmp", "--"]
    return cmd


@functools.lru_cache(maxsize=None)
def bwrap_problem() -> str | None:
    """None when bubblewrap works here; otherwise why not (said once to the user)."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    from .runner import CHILD

    cmd = bwrap_prefix([CHILD]) + [sys.executable, "-I", "-c", "import numpy"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=30, env={"PATH": os.environ.get("PATH", "")})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap does not work here: {err[-1] if err else 'exit ' + str(proc.returncode)}"
    return None
