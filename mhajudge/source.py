"""Reading a submission's source out of a folder someone else filled.

    from mhajudge.source import read_source, SourceError
    try:
        text = read_source("subs/alice/solution.py", within="subs/alice")
    except SourceError as exc:
        print(exc)      # "a symlink pointing outside alice/ (to /etc/shadow): not judged"

A graded folder is hostile: a "solution.py" may be a symlink to the reference
solution or to /etc/shadow, a FIFO that blocks whoever opens it for writing
never comes, a device such as /dev/zero that never ends, a sparse file of
terabytes, or a file that cannot be read. Whatever it is, :func:`read_source`
either returns at most ``limit`` bytes of a regular file that lies inside
``within``, or raises :class:`SourceError` whose message says why not, for
people. It never blocks: nothing that is not a regular file is opened at all
(opening a device can act on it), and the final open is non-blocking and
refuses a symlink; the opened descriptor itself is then checked (its type, its
size and, through ``/proc/self/fd``, where it really is), so swapping the file
between the checks and the open gains nothing.
"""

from __future__ import annotations

import errno
import os
import stat

from .untrusted import shown_name

SOURCE_LIMIT = 256 * 1024  # bytes of source a submission may have (256 KiB)


class SourceError(Exception):
    """The file cannot be judged; ``str()`` is the reason, for a report's notes."""


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _too_big(size: int, limit: int) -> SourceError:
    kib = f" ({limit // 1024:,} KiB)" if limit % 1024 == 0 else ""
    return SourceError(f"the file is {size:,} bytes; the limit for a submission is {limit:,} bytes{kib}")


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _resolve(path: str, within: str | None) -> tuple[str, str | None]:
    """(the real path, the symlink's target when ``path`` is a symlink)."""
    try:
        is_link = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror}") from None
    target = None
    if is_link:
        try:
            target = shown_name(os.readlink(path), limit=120)
        except OSError as exc:
            raise SourceError(f"cannot read the symlink: {exc.strerror}") from None
    try:
        real = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError("a symlink loop: not judged") from None
        if exc.errno == errno.ENOENT and is_link:
            raise SourceError(f"a dangling symlink (to {target}): not judged") from None
        raise SourceError(f"cannot read the file: {exc.strerror}") from None
    if within is not None and not _inside(real, within):
        where = shown_name(os.path.basename(within) or within) + "/"
        if is_link:
            raise SourceError(f"a symlink pointing outside {where} (to {target}): not judged")
        raise SourceError(f"the file lies outside {where} (through a symlinked folder): not judged")
    return real, target


def read_bytes(path, *, within=None, limit: int = SOURCE_LIMIT) -> bytes:
    """The file's bytes; see :func:`read_source`."""
    path = os.fsdecode(os.fspath(path))
    root = None if within is None else os.path.realpath(os.fsdecode(os.fspath(within)))
    real, target = _resolve(path, root)
    try:
        st = os.stat(real)
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        # Not opened at all: opening a FIFO or a device can block or act on it.
        if target is not None:
            raise SourceError(f"a symlink to {_kind(st.st_mode)} ({target}), not a regular file: not judged")
        raise SourceError(f"not a regular file ({_kind(st.st_mode)}): not judged")
    if st.st_size > limit:
        raise _too_big(st.st_size, limit)
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a symlink since it was resolved
            raise SourceError("the file changed while it was being read (now a symlink): not judged") from None
        raise SourceError(f"cannot read the file: {exc.strerror}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise SourceError(f"not a regular file ({_kind(opened.st_mode)}): not judged")
        if opened.st_size > limit:
            raise _too_big(opened.st_size, limit)
        if root is not None:
            _check_opened(fd, opened, root)
        chunks, size = [], 0
        while size <= limit:
            try:
                chunk = os.read(fd, limit + 1 - size)
            except OSError as exc:
                raise SourceError(f"cannot read the file: {exc.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:  # it grew after fstat
        raise _too_big(size, limit)
    return b"".join(chunks)


def _check_opened(fd: int, opened: os.stat_result, root: str) -> None:
    """The descriptor really is a file inside ``root`` (not what a race put there)."""
    try:
        where = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return  # no /proc: the realpath check before the open stands alone
    try:
        same = os.stat(where)
        ok = _inside(where, root) and (same.st_dev, same.st_ino) == (opened.st_dev, opened.st_ino)
    except OSError:
        ok = False
    if not ok:
        raise SourceError("the file changed while it was being read: not judged")


def read_source(path, *, within=None, limit: int = SOURCE_LIMIT) -> str:
    """The text of the submission at ``path`` ("utf-8", "surrogateescape": any bytes
    come back and can be turned back into the same bytes).

    Raises :class:`SourceError` for anything but a regular file of at most
    ``limit`` bytes that this process can read and, when ``within`` (a folder)
    is given, that really lies inside ``within``: a symlink is followed only
    when where it leads is inside ``within``.
    """
    return read_bytes(path, within=within, limit=limit).decode("utf-8", "surrogateescape")
