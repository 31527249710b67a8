"""A failing case's inputs on disk (``run --save-failing DIR``), to reproduce it elsewhere.

``DIR/<case>/<param>.npy`` per array argument; a dict argument (generate's ``params``)
and one of the judge's models (beam-search's ``step``, by its arrays) become a folder,
``DIR/<case>/<param>/<key>.npy``. ``np.load`` reads each file in a notebook, and
``mhajudge try FILE --args DIR/<case>`` runs the whole case again.

DIR may be shared (``/tmp/failing``), so nothing already in it is trusted: a case
folder that is a symlink, or someone else's, is refused; the ``.npy`` files of an
earlier save are removed first (none of another's may mix in); each file is written
under a fresh name (``O_EXCL | O_NOFOLLOW``) and renamed over the old one, so a planted
symlink is replaced, never written through; and in a world-writable DIR the files are
readable by us alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")  # a parameter's or a key's name, as a file name


class SaveError(Exception):
    """The inputs could not be written; the message says where and why."""


def case_folder_name(name: str) -> str:
    """A case's name as one harmless folder name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.")
    return safe or "case"


def arrays_of(args: dict) -> dict:
    """``{relative path: array}`` for a case's arguments (``None`` and what is not numbers
    left out)."""
    import numpy as np

    from .sandbox.models import is_marker

    out = {}
    for name, value in args.items():
        if not _NAME.fullmatch(str(name)):
            continue
        if is_marker(value):
            value = {k: v for k, v in value["$model"].items() if k != "kind"}
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for key, item in items:
            if item is None or (key is not None and not _NAME.fullmatch(str(key))):
                continue
            a = np.asarray(item)
            if a.dtype.kind not in "biufc":
                continue
            out[name if key is None else f"{name}/{key}"] = a
    return out


def save_case(args: dict, folder, case_name: str) -> tuple[Path, list[str]]:
    """Write ``args`` under ``folder/<case>``; (that folder, the relative paths written)."""
    import numpy as np

    folder = Path(folder)
    target = folder / case_folder_name(case_name)
    arrays = arrays_of(args)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        top = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            shared = bool(os.fstat(top).st_mode & 0o002)  # /tmp-like: what is written is for us alone
            root = _open_dir(top, target.name, shared)
        finally:
            os.close(top)
        try:
            _clear(root, shared)  # an earlier save's arrays (or another case's) must not mix in
            for rel, a in arrays.items():
                sub, _, leaf = rel.rpartition("/")
                fd = _open_dir(root, sub, shared) if sub else root
                try:
                    _write(fd, f"{leaf}.npy", a, np, 0o600 if shared else 0o644)
                finally:
                    if fd != root:
                        os.close(fd)
        finally:
            os.close(root)
    except OSError as exc:
        raise SaveError(f"cannot write in {target}: {exc.strerror or exc}") from None
    return target, list(arrays)


def _open_dir(parent: int, name: str, shared: bool = False) -> int:
    """The folder ``name`` in ``parent`` (made if missing), never through a symlink, and
    only if it is ours (in a shared DIR, one someone else made could hold their files)."""
    try:
        os.mkdir(name, 0o700 if shared else 0o755, dir_fd=parent)
    except FileExistsError:
        pass
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    except OSError as exc:
        raise OSError(exc.errno, f"{name} exists and is not a folder (a symlink is not followed)") from None
    if os.fstat(fd).st_uid != os.geteuid():
        os.close(fd)
        raise OSError(1, f"{name} exists and is someone else's folder: not written in")
    return fd


def _clear(dir_fd: int, shared: bool) -> None:
    """Remove the ``.npy`` files in a case folder of ours, and in its folders of ours."""
    for entry in os.scandir(dir_fd):
        if entry.is_dir(follow_symlinks=False):
            sub = _open_dir(dir_fd, entry.name, shared)
            try:
                _clear(sub, shared)
            finally:
                os.close(sub)
        elif entry.name.endswith(".npy"):
            os.unlink(entry.name, dir_fd=dir_fd)  # a file or a link: the link goes, not what it leads to


def _write(dir_fd: int, name: str, array, np, mode: int = 0o644) -> None:
    tmp = f".{name}.{os.urandom(6).hex()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            np.save(f, array, allow_pickle=False)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)  # over a planted symlink: the link goes
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise
