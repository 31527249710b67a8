"""Tracing one call line by line: the values a function's lines compute, as plain arrays.

Used twice, alike: in a case's process on the candidate's function (after the verdict
is settled, for diagnosis only), and in the judge on the reference. ``sys.settrace``
follows only frames of code from one file; after each line of such a frame, every
local variable whose value changed (rebound, or an array changed in place) is copied
out as a *capture* ``(function, line, name, value)``, attributed to the line that
just ran. A function's array parameters are captured on entry, at its ``def`` line.

Everything is bounded, because the candidate's code may be anything: at most
``max_captures`` captures, one per (function, line, name) (the first: head 0 of a loop
over heads), arrays of at most ``max_elements`` elements copied (larger ones only
described by shape), at most ``max_frames`` frames followed. A candidate that replaces
the tracer (its own ``sys.settrace``) just ends the capturing; generators and deep
recursion are frames like any other, within the same bounds.

Standard library and NumPy only: the child loads this file by path.
"""

from __future__ import annotations

import sys

LIMITS = {"max_captures": 200, "max_elements": 4096, "max_frames": 64}


class Tracer:
    def __init__(self, filename: str, limits: dict | None = None):
        import numpy as np

        self.np = np
        self.filename = filename
        lim = dict(LIMITS, **(limits or {}))
        self.max_captures, self.max_elements = int(lim["max_captures"]), int(lim["max_elements"])
        self.max_frames = int(lim["max_frames"])
        self.captures: list[dict] = []       # {fn, line, name, shape, dtype, value (or None)}
        self.seen: set = set()               # (fn, line, name) already captured
        self.frames: dict = {}               # id(frame) -> [frame, last line, {name: snapshot}]

    # -- what a value is --------------------------------------------------------
    def _arrayish(self, value):
        np = self.np
        if isinstance(value, np.ndarray):
            return value
        if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
            return np.asarray(value, dtype=np.float64)
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and abs(value) < 2 ** 62:
            return np.asarray(value, dtype=np.int64)                # a size such as d_k
        return None

    def _snapshot(self, value):
        a = self._arrayish(value)
        if a is None:
            return None
        if a.size > self.max_elements or a.dtype.kind not in "fiub" or a.dtype.hasobject:
            return (id(value), a.shape, None)
        return (id(value), a.shape, a.copy())

    def _changed(self, old, new) -> bool:
        if old is None:
            return True
        if old[0] != new[0] or old[1] != new[1]:
            return True
        if old[2] is None or new[2] is None:
            return False
        return not self.np.array_equal(old[2], new[2], equal_nan=old[2].dtype.kind == "f")

    def _capture(self, code, line: int, name: str, snap) -> None:
        key = (code.co_name, line, name)
        if key in self.seen or len(self.captures) >= self.max_captures:
            return
        self.seen.add(key)
        value = snap[2]
        self.captures.append({"fn": code.co_name, "line": line, "name": name, "shape": list(snap[1]),
                              "value": value})

    def _scan(self, frame, state, line: int) -> None:
        snaps = state[2]
        try:
            local = dict(frame.f_locals)
        except Exception:  # noqa: BLE001 - a frame's locals are the candidate's
            return
        for name, value in local.items():
            if not isinstance(name, str):
                continue
            snap = self._snapshot(value)
            if snap is None:
                continue
            if self._changed(snaps.get(name), snap):
                snaps[name] = snap
                self._capture(frame.f_code, line, name, snap)

    def _returned(self, code, line: int, value) -> None:
        """The return value (each part of a returned tuple), as ``return`` / ``return[i]``."""
        parts = [("return", value)]
        if isinstance(value, tuple) and len(value) <= 8:
            parts = [(f"return[{i}]", v) for i, v in enumerate(value)]
        for name, v in parts:
            snap = self._snapshot(v)
            if snap is not None:
                self._capture(code, line, name, snap)

    # -- the trace functions ----------------------------------------------------
    def global_trace(self, frame, event, arg):
        if event != "call" or frame.f_code.co_filename != self.filename:
            return None
        if len(self.frames) >= self.max_frames or len(self.captures) >= self.max_captures:
            return None
        state = [frame, frame.f_code.co_firstlineno, {}]
        self.frames[id(frame)] = state
        self._scan(frame, state, frame.f_code.co_firstlineno)   # the parameters, at the def line
        return self.local_trace

    def local_trace(self, frame, event, arg):
        state = self.frames.get(id(frame))
        if state is None or state[0] is not frame:
            return None
        if event in ("line", "return"):
            self._scan(frame, state, state[1])                  # what the line that just ran changed
            if event == "line":
                state[1] = frame.f_lineno
            else:
                self._returned(frame.f_code, state[1], arg)
                self.frames.pop(id(frame), None)
        return self.local_trace

    def run(self, fn, args, kwargs):
        """Call ``fn`` traced; returns (outcome, captures): outcome "ok" or "raised"."""
        old = sys.gettrace()
        sys.settrace(self.global_trace)
        try:
            fn(*args, **kwargs)
            outcome = "ok"
        except BaseException:  # noqa: BLE001 - the trace up to the raise is still worth reading
            outcome = "raised"
        finally:
            sys.settrace(old)
            self.frames.clear()
        return outcome, self.captures


def run_traced(fn, inputs: dict, filename: str, limits: dict | None = None):
    """In a case's process: trace one call; returns ``(reply, payload)`` for the wire.

    The reply lists the captures' function, line, name and shape; the payload holds the
    copied arrays as ``t{i}`` leaves. Nothing else goes out.
    """
    tracer = Tracer(filename, limits)
    outcome, captures = tracer.run(fn, inputs.get("args", []), inputs.get("kwargs", {}))
    meta, payload = [], {}
    for i, c in enumerate(captures):
        leaf = None
        if c["value"] is not None:
            leaf = f"t{i}"
            payload[leaf] = c["value"]
        meta.append({"fn": str(c["fn"])[:100], "line": int(c["line"]), "name": c["name"][:100],
                     "shape": [int(n) for n in c["shape"]], "leaf": leaf})
    return {"status": "traced", "outcome": outcome, "trace": meta}, payload
