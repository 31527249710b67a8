"""A traced run's reply (see :mod:`.tracing`), read as hostile input.

The case's process ran the candidate's code, so every field may be forged: the
captures are checked against a closed shape (a bounded list of small records, names
that are identifiers, lines and shapes in range, leaves that exist and hold small
numeric arrays of the declared shape). Anything else gives no trace at all, never an
error: the trace only ever helps diagnosis, and the verdict was settled before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .tracing import LIMITS

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[0-7]\])?$")


@dataclass
class Capture:
    fn: str
    line: int
    name: str
    shape: tuple
    value: object = None   # an ndarray, or None when it was too large to copy


def read_trace(msg: dict, payload, limits: dict | None = None) -> list[Capture] | None:
    """The captures of a traced run, or None when the reply is not an honest trace."""
    import numpy as np

    lim = dict(LIMITS, **(limits or {}))
    if not isinstance(msg, dict) or isinstance(msg.get("ended"), dict):
        return None
    reply = msg.get("reply")
    if not isinstance(reply, dict) or reply.get("status") != "traced" or reply.get("outcome") not in ("ok", "raised"):
        return None
    items = reply.get("trace")
    if not isinstance(items, list) or len(items) > lim["max_captures"]:
        return None
    if payload is None:
        payload = {}
    if not isinstance(payload, dict) or len(payload) > len(items):
        return None
    out = []
    for item in items:
        if not isinstance(item, dict):
            return None
        fn, line, name, shape, leaf = (item.get(k) for k in ("fn", "line", "name", "shape", "leaf"))
        if not (isinstance(fn, str) and NAME_RE.match(fn) or fn in ("<module>", "<lambda>", "<listcomp>",
                                                                  "<genexpr>", "<dictcomp>")):
            return None
        if not isinstance(name, str) or not NAME_RE.match(name) and not re.match(r"^return(\[[0-7]\])?$", name):
            return None
        if isinstance(line, bool) or not isinstance(line, int) or not 0 < line < 10 ** 7:
            return None
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 10 ** 9 for n in shape)):
            return None
        value = None
        if leaf is not None:
            value = payload.get(leaf) if isinstance(leaf, str) else None
            if (type(value) is not np.ndarray or value.dtype.kind not in "fiub" or value.dtype.hasobject
                    or value.size > lim["max_elements"] or list(value.shape) != shape):
                return None
        out.append(Capture(fn, line, name, tuple(shape), value))
    return out
