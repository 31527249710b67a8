"""Operating-system isolation for the child: an unprivileged uid and bubblewrap.

Two layers, each used where the machine offers it:

- **An unprivileged uid of its own** (when the judge runs as root): the child
  drops to a fresh uid no other process uses. The candidate cannot signal or
  ptrace the judge, a process-count limit binds (it does not bind root), and
  when the sandbox closes every process still running under that uid is killed,
  however it detached itself (``setsid``, double fork).
- **bubblewrap** (``bwrap``): no network, a read-only view of only the system's
  libraries, the interpreter, its standard library and NumPy (every site-packages
  folder hidden, so nothing banned can be imported or loaded with ctypes, by this
  interpreter or another one), a private size-bounded ``/tmp``, and its own PID namespace,
  so killing the sandbox kills everything it started and the judge's processes
  are not even visible. The submission's file is not mounted: its source is sent
  over the pipe.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from .fork import descendants, sweep  # noqa: E402 - one process-tree walk, shared with the child

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


def kill_uid(uid: int) -> None:
    """SIGKILL every process running as ``uid``."""
    sweep(lambda: [pid for pid, uids in _process_uids().items() if uid in uids], rounds=5)


def kill_tree(pid: int) -> None:
    """SIGKILL everything below ``pid``: the child is a subreaper, so processes
    that detached with setsid or a double fork are still below it."""
    sweep(lambda: descendants(pid), rounds=3)


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


SYSTEM_ROOTS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/alternatives",
                "/etc/ld.so.cache", "/etc/localtime")
# Where a system's own Pythons keep third-party packages: hidden in the view.
PACKAGE_DIRS = ("/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages",
                "/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
                "/usr/lib64/python3*/site-packages", "/usr/local/lib64/python3*/site-packages",
                "/usr/share/python3*/site-packages")


def view(torch: bool = False) -> tuple[list[str], list[str], list[str]]:
    """The sandbox's file system: (read-only binds, folders hidden under an empty
    tmpfs, NumPy's folders to bind back inside a hidden one).

    Only the system's libraries and tools, the interpreter, its standard library and
    NumPy. Every site-packages and dist-packages folder is hidden, the interpreter's
    own included, and NumPy alone is bound back: no interpreter inside the view can
    import a banned package, and no banned package's shared library is there for
    ctypes to load. On the torch track (``torch``), torch and what it needs are bound
    back too (:func:`mhajudge.track.torch_folders`), and only then.
    """
    import glob

    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    numpy = _numpy_dir()
    numpy_dirs = [str(numpy)] + ([str(numpy.with_name("numpy.libs"))]  # the wheel's OpenBLAS
                                 if numpy.with_name("numpy.libs").is_dir() else [])
    if torch:
        from ..track import torch_folders

        numpy_dirs += [d for d in torch_folders() if d not in numpy_dirs]
    binds = [r for r in SYSTEM_ROOTS if os.path.exists(r)] + [str(stdlib)]
    binds += sorted(str(p) for p in (Path(sys.base_prefix) / "lib").glob("libpython*.so*"))  # a shared build
    binds.append(sys.executable)
    cfg = Path(sys.prefix) / "pyvenv.cfg"  # a virtual environment: Python finds its home from it
    if cfg.is_file():
        binds.append(str(cfg))
    hidden = {d for pattern in PACKAGE_DIRS for d in glob.glob(pattern)}
    hidden |= {str(stdlib / "site-packages"), str(stdlib / "dist-packages")}
    hidden = sorted(d for d in hidden if os.path.isdir(d))
    return binds + [d for d in numpy_dirs if not any(d.startswith(h + "/") for h in hidden)], hidden, \
        [d for d in numpy_dirs if any(d.startswith(h + "/") for h in hidden)]


def bwrap_prefix(child_files: list[Path], torch: bool = False) -> list[str]:
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
    binds, hidden, numpy_again = view(torch)
    roots = binds
    # Parent folders bubblewrap would create as 0700 (so the dropped uid could
    # not walk through e.g. /root to a Python installed there): make them 0755.
    parents = sorted({str(p) for r in roots for p in Path(r).parents if str(p) != "/"},
                     key=lambda p: p.count("/"))
    for d in parents:
        if not any(d == r or d.startswith(r + "/") for r in binds):
            cmd += ["--perms", "0755", "--dir", d]
    for root in binds:
        cmd += ["--ro-bind", root, root]
    for d in hidden:  # after the binds: an empty, read-only folder over each package folder
        cmd += ["--perms", "0755", "--tmpfs", d, "--remount-ro", d]
    for d in numpy_again:  # NumPy, should it live inside one of them
        cmd += ["--ro-bind", d, d]
    from . import INNER

    cmd += ["--perms", "0755", "--dir", INNER]
    for f in child_files:  # under a neutral name: the package's folders are not in the view
        cmd += ["--ro-bind", str(f), f"{INNER}/{Path(f).name}"]
    compiled = compiled_beside(child_files)
    if compiled:  # else the child compiles its modules on every start (~50 ms)
        cmd += ["--perms", "0755", "--dir", f"{INNER}/__pycache__"]
        for pyc in compiled:
            cmd += ["--ro-bind", str(pyc), f"{INNER}/__pycache__/{pyc.name}"]
    cmd += ["--chdir", "/tmp", "--"]
    return cmd


def compiled_beside(files: list[Path]) -> list[Path]:
    """The compiled modules (``__pycache__/NAME.cpython-3XX.pyc``) of the child's files
    in the package's own ``__pycache__``, compiled there first where one is missing, the
    folder can be written and Python may write them (not under ``PYTHONDONTWRITEBYTECODE``
    or ``-B``); an install that cannot be written usually has them from pip.

    They are bound into the view beside the files, where Python finds them as it finds
    any module's: it checks each against its source's size and time of change (the very
    file, bound read-only) and, where one does not match, compiles the source instead, as
    it does without them. They come from where the judge's own code comes from, so they
    are trusted as much as it is."""
    import importlib.util
    import py_compile

    out = []
    for f in files:
        try:
            pyc = Path(importlib.util.cache_from_source(str(f)))
            if not pyc.is_file() and not sys.dont_write_bytecode:
                py_compile.compile(str(f), cfile=str(pyc), doraise=True)
        except (OSError, NotImplementedError, py_compile.PyCompileError):
            continue
        if pyc.is_file():
            out.append(pyc)
    return out


@functools.lru_cache(maxsize=None)
def bwrap_problem() -> str | None:
    """None when bubblewrap works here; otherwise why not (said once to the user)."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed"
    from . import CHILD

    cmd = bwrap_prefix([CHILD]) + [sys.executable, "-I", "-c", "import numpy"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=30, env={"PATH": os.environ.get("PATH", "")})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start: {exc}"
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip().splitlines()
        return f"bubblewrap does not work here: {err[-1] if err else 'exit ' + str(proc.returncode)}"
    return None


def resolve(isolate: bool | None, *, secret: bool, grading: bool) -> bool:
    """Whether candidates run isolated (``../shared/CLI.md``, "Grading is isolated").

    ``isolate`` is the caller's explicit choice (``--isolate`` / ``--no-isolate``) or
    None. Whenever a secret is in use, and for grading always, isolation is the
    default and, where it cannot be had, the judge refuses to judge rather than run
    hostile code beside the secret: an explicit ``False`` is the only way round.
    """
    from ..errors import JudgeError

    if isolate is False:
        return False
    if not (isolate or secret or grading):
        return False
    problem = bwrap_problem()
    if problem is None:
        return True
    why = ("grading" if grading else "MHAJUDGE_SECRET is set") if isolate is None else "--isolate was given"
    raise JudgeError(f"{problem}, so submissions cannot be isolated ({why}, and then they must be)",
                     hint="install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
                          "bubblewrap); or pass --no-isolate to run candidates with resource limits only, "
                          "sharing your user (never for grading that matters)")


def protect_judge() -> None:
    """Keep what the judge holds (the secret in its environment, the expected answers in
    its memory) from processes of the same uid: a non-dumpable process's /proc files
    (environ, mem, fd) belong to root and it cannot be ptraced without privilege."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError):
        pass
