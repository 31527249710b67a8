"""PLACEHOLDER until the hostile-folder branch lands: read a candidate's source safely."""

from __future__ import annotations

from pathlib import Path

SOURCE_LIMIT = 256 * 1024


class SourceError(Exception):
    pass


def read_source(path, *, within=None, limit: int = SOURCE_LIMIT) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the file: {exc.strerror}") from None
    return data.decode("utf-8", "surrogateescape")
