"""What the trusted child serves a case's process over its socket: the judge's
models, and the steps of a timed program.

**Models.**
A problem that hands the candidate a function of the judge's (beam search's
``step``, :mod:`.models`) also judges how it was used: how many prefixes a search
asked for. Counted in the candidate's process, that count was the candidate's to
change (``step._counts[:] = [0, 0, 0]`` after rescoring from scratch passed). So the
model does not live there. The child, which runs no candidate code, decodes a
case's inputs, takes each ``{"$model": {...}}`` marker out (:func:`strip`) and puts
``{"$served": k, "vocab": V}`` in its place; the case's process gets a
:class:`Proxy` for it, which checks its argument as the model would (the
candidate's own ``TypeError`` or ``ValueError``, raised in its own line), sends the
token lists over a socket, and returns the log-probabilities the child computed
(:class:`Server`, polled by the child's watch over the case, see
:meth:`.fork.Forker.run_sent`). The counts are the child's: the judge reads them
from what the child measured, never from the case's answer.

Neither the weights nor the counts of its own case are in the case's process: it is
the spare forked before the case's frame came (the child forks a replacement at the
end of a case, not when the frame is in), and it gets the frame with the markers
taken out. (It was forked while the case before ran, so that case's model may be in
its memory: each case draws a model of its own, so that one answers nothing here.) It can write anything to its socket: a request is read against hard
bounds (:data:`MAX_REQUEST`), re-checked by the model, and a malformed one ends the
service (its next call raises). It can only add to its counts.

Request: ``b"STEP"``, the model's index, the number of prefixes and of tokens
(``<4sIII``), then each prefix's length (``uint32``) and the tokens (``int64``).
Reply: ``b"LOGP"``, a kind (0 the ``(n, V)`` float64 array follows; 1 a
``TypeError``, 2 a ``ValueError`` message follows, UTF-8) and the body's length
(``<4sBQ``).

**Timed steps.** generate's check of efficiency fits how the time of a generation
grows with its length. Timed in the case's process, repeating each call, that was
the candidate's to bend: a memo of its answers made the repeats free, and any
timing there can be forged with the reply. So the child takes a timed ``steps``
program's steps out of the inputs (:class:`Driver`) and hands them to the case's
process one at a time, each only after the answer to the last one came back over
the socket, and times each itself (wall clock, from handing the step over to having
its answer; :func:`driven_steps` is the case's side). Every step is a distinct call
(the generator draws a new prompt for each) and every answer is checked: no work
can be done ahead for a step not yet seen, or left for later once its answer is
given. The answers the judge checks are the ones that came over the socket, and the
times (``measured``'s ``step_times``) become the answer's ``$step_times`` leaf.
Frames here are :mod:`.wire` frames: the case's process says ``{"ready": true}``
once it has imported the candidate; the child sends ``{"step": k}`` with that step's
``{args, kwargs}``, and ``{"step": null}`` after the last; the case's process
answers each step with ``{"step": k}`` and that step's flat answer.

Standard library and NumPy only: the child loads this file by path.
"""

from __future__ import annotations

import os
import socket
import struct

try:
    from . import models
except ImportError:  # in the child, loaded by path beside this file
    import importlib.util as _util

    _spec = _util.spec_from_file_location("_mhajudge_models", os.path.join(os.path.dirname(__file__), "models.py"))
    models = _util.module_from_spec(_spec)
    _spec.loader.exec_module(models)

REQUEST = struct.Struct("<4sIII")
REPLY = struct.Struct("<4sBQ")
OK, TYPE_ERROR, VALUE_ERROR = 0, 1, 2
MAX_REQUEST = REQUEST.size + 4 * models.MAX_ROWS_PER_CALL + 8 * models.MAX_TOTAL_TOKENS

CHANNEL: list = [None]  # in a case's process: its socket to the child (set by the fork), else None


# -- in the child: markers out, calls answered -------------------------------------

def strip(value, found: list):
    """``value`` with every model marker replaced by ``{"$served": k, "vocab": V}``,
    the markers appended to ``found`` (``k`` their index there)."""
    if models.is_marker(value):
        found.append(value)
        embed = value["$model"].get("embed")
        vocab = int(getattr(embed, "shape", (0,))[0])
        return {"$served": len(found) - 1, "vocab": vocab}
    if isinstance(value, dict):
        return {k: strip(v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [strip(v, found) for v in value]
    if isinstance(value, tuple):
        return tuple(strip(v, found) for v in value)
    return value


class _Channel:
    """The child's end of a case's socket: what came in (``inbox``), what is yet to go
    out (``outbox``), polled by the child's watch (``wants_write``, ``on_readable``,
    ``on_writable``); closed for good on anything malformed, or when the case hangs up."""

    cap = 1 << 20  # bytes the inbox may hold: more, and the case is flooding us

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.sock.setblocking(False)
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.closed = False

    def wants_write(self) -> bool:
        return bool(self.outbox) and not self.closed

    def _receive(self) -> bool:
        """Read what came into ``inbox``; False if nothing more will."""
        try:
            chunk = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return not self.closed
        except OSError:
            chunk = b""
        if not chunk or len(self.inbox) + len(chunk) > self.cap:
            self.close()
            return False
        self.inbox += chunk
        return True

    def _send(self) -> None:
        try:
            del self.outbox[:self.sock.send(self.outbox)]
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.outbox.clear()
            self.inbox.clear()
            try:
                self.sock.close()
            except OSError:
                pass


class Server(_Channel):
    """The child's end of one case's socket: reads its requests, answers them with the
    models built from the case's markers, and counts what was asked (calls, prefixes)."""

    cap = MAX_REQUEST  # one whole request: none is read while a reply waits to go out

    def __init__(self, sock: socket.socket, markers: list):
        super().__init__(sock)
        self.models = [models.build(m) for m in markers]

    def usage(self) -> dict:
        return {"calls": sum(m.usage()[0] for m in self.models), "rows": sum(m.usage()[1] for m in self.models)}

    def measured(self) -> dict:
        """What goes into the case's ``measured``: the counts."""
        usage = self.usage()
        return {"model_calls": usage["calls"], "model_rows": usage["rows"]}

    def on_readable(self, deadline: float) -> None:
        """Read what came; answer each whole request (none while a reply is still unsent)."""
        if self._receive():
            self._answer_all(deadline)

    def on_writable(self, deadline: float) -> None:
        self._send()
        self._answer_all(deadline)

    def _answer_all(self, deadline: float) -> None:
        while not self.closed and not self.outbox and self._answer_one(deadline):
            pass

    def _answer_one(self, deadline: float) -> bool:
        """Answer the first request if it is all in; whether one was answered."""
        import numpy as np

        if len(self.inbox) < REQUEST.size:
            return False
        magic, index, n, tokens = REQUEST.unpack_from(self.inbox)
        size = REQUEST.size + 4 * n + 8 * tokens
        if (magic != b"STEP" or index >= len(self.models) or n > models.MAX_ROWS_PER_CALL
                or tokens > models.MAX_TOTAL_TOKENS or size > MAX_REQUEST):
            self.close()
            return False
        if len(self.inbox) < size:
            return False
        body = bytes(self.inbox[REQUEST.size:size])
        del self.inbox[:size]
        lengths = np.frombuffer(body, dtype="<u4", count=n)
        flat = np.frombuffer(body, dtype="<i8", count=tokens, offset=4 * n)
        if int(lengths.sum(dtype=np.int64)) != tokens:
            self.close()
            return False
        ends = np.cumsum(lengths, dtype=np.int64)
        prefixes = [flat[e - k:e].tolist() for e, k in zip(ends.tolist(), lengths.tolist())]
        try:
            out = np.ascontiguousarray(self.models[index](prefixes, deadline=deadline), dtype="<f8")
            kind, data = OK, out.tobytes()
        except (TimeoutError, MemoryError):
            self.close()  # the case is out of time (the watch kills it), or asked for more than we hold
            return False
        except TypeError as exc:
            kind, data = TYPE_ERROR, str(exc).encode()
        except ValueError as exc:
            kind, data = VALUE_ERROR, str(exc).encode()
        self.outbox += REPLY.pack(b"LOGP", kind, len(data)) + data
        return True


MAX_STEP_ANSWER = 64 << 20   # bytes of one step's answer frame: far more than a generation's tokens
MAX_STEP_ANSWERS = 320 << 20  # bytes of all of them: what the child holds for the case (as fork.FRAME_CAP)


class Driver(_Channel):
    """The child's end of a timed ``steps`` program: hands the steps over one at a time
    and times each, from handing it over to having its answer (see the module docstring).
    Polled like :class:`Server` by the child's watch over the case."""

    cap = MAX_STEP_ANSWER  # one step's answer at a time

    def __init__(self, sock: socket.socket, steps: list, wire):
        import time

        super().__init__(sock)
        self.steps, self.wire = steps, wire
        self.clock = time.perf_counter
        self.ready = False
        self.given = 0            # steps handed over
        self.started = None       # when the step now outstanding was handed over
        self.times: list[float] = []
        self.answers: list[dict] = []
        self.taken = 0            # bytes of the answers so far

    @property
    def complete(self) -> bool:
        """Every step was answered, in turn."""
        return len(self.answers) == len(self.steps)

    def measured(self) -> dict:
        return {"step_times": list(self.times)}

    def payload(self) -> dict:
        """The answers as a steps program's leaves (``step {k} {leaf}``)."""
        return {f"step {k} {name}": value for k, answer in enumerate(self.answers) for name, value in answer.items()}

    def on_writable(self, deadline: float) -> None:
        self._send()

    def on_readable(self, deadline: float) -> None:
        if not self._receive():
            return
        while not self.closed:
            if len(self.inbox) >= 8 and int.from_bytes(self.inbox[:8], "little") > self.wire.MAX_HEADER:
                self.close()  # not a frame of ours
                return
            size = self.wire.frame_size(self.inbox)
            if size is not None and size > MAX_STEP_ANSWER:
                self.close()
                return
            if size is None or len(self.inbox) < size:  # more to come (the inbox is capped: see _receive)
                return
            self.taken += size
            if self.taken > MAX_STEP_ANSWERS:
                self.close()
                return
            frame = bytes(self.inbox[:size])
            del self.inbox[:size]
            self._take(frame)

    def _take(self, frame: bytes) -> None:
        import numpy as np

        now = self.clock()
        try:
            msg, payload = self.wire.unpack(frame)
        except Exception:  # noqa: BLE001 - a malformed frame: the service ends
            self.close()
            return
        if not self.ready:
            if msg != {"ready": True}:
                self.close()
                return
            self.ready = True
        elif (self.started is None or msg != {"step": len(self.answers)} or not isinstance(payload, dict)
              or not all(isinstance(k, str) and type(v) is np.ndarray for k, v in payload.items())):
            self.close()  # out of turn, or not a flat answer
            return
        else:
            self.times.append(now - self.started)
            self.answers.append(payload)
        self._give_next()

    def _give_next(self) -> None:
        if self.given < len(self.steps):
            self.outbox += self.wire.pack({"step": self.given}, self.steps[self.given])
            self.given += 1
            self.started = self.clock()
        else:
            self.outbox += self.wire.pack({"step": None})
            self.started = None
        self._send()


# -- in the case's process: the function the candidate calls, the steps it is given ------

def driven_steps(fn, wire, flatten, step_args, convert=lambda step: step) -> list:
    """In the case's process: the steps of a timed program as the child hands them over
    (see :class:`Driver`); each answer (``flatten(result)``) goes back before the next
    step comes. ``convert(step)``: the step's inputs as the track hands them in;
    ``step_args(step, k, prev)``: its positional arguments. Returns the raw results, as
    :func:`.programs.call_program` does."""
    sock = CHANNEL[0]
    if sock is None:
        raise RuntimeError("the judge's timed steps are not available in this process")
    results: list = []
    try:
        sock.sendall(wire.pack({"ready": True}))
        while True:
            msg, step = wire.read_frame(sock.fileno(), MAX_STEP_ANSWERS)
            if msg.get("step") is None:
                return results
            prev, step = (results[-1] if results else None), convert(step)
            result = fn(*step_args(step, len(results), prev), **step.get("kwargs", {}))
            results.append(result)
            sock.sendall(wire.pack({"step": len(results) - 1}, flatten(result)))
    except (OSError, EOFError, wire.WireError):
        raise RuntimeError("the judge's channel for timed steps closed (was it written to?)") from None

class Proxy:
    """``step(prefixes) -> (n, V)``, answered by the child: see the module docstring."""

    __slots__ = ("_index", "_vocab")

    def __init__(self, index: int, vocab: int):
        self._index, self._vocab = index, vocab

    def __repr__(self) -> str:
        return f"<the judge's step model: step(prefixes) -> ({self._vocab} log-probabilities per prefix)>"

    def __call__(self, prefixes):
        import numpy as np

        rows = models.read_prefixes(prefixes, self._vocab)  # the candidate's mistakes, raised here
        lengths = np.array([len(r) for r in rows], dtype="<u4")
        flat = np.fromiter((t for r in rows for t in r), dtype="<i8", count=int(lengths.sum(dtype=np.int64)))
        sock = CHANNEL[0]
        if sock is None:
            raise RuntimeError("step: the judge's model is not available in this process")
        try:
            sock.sendall(REQUEST.pack(b"STEP", self._index, len(rows), flat.size) + lengths.tobytes() + flat.tobytes())
            magic, kind, size = REPLY.unpack(_read(sock, REPLY.size))
            body = _read(sock, size) if magic == b"LOGP" else b""
        except OSError:
            raise RuntimeError("step: the judge's model stopped answering (was the channel written to?)") from None
        if magic != b"LOGP":
            raise RuntimeError("step: the judge's model sent an unreadable reply")
        if kind == TYPE_ERROR:
            raise TypeError(body.decode(errors="replace"))
        if kind == VALUE_ERROR:
            raise ValueError(body.decode(errors="replace"))
        return np.frombuffer(body, dtype="<f8").reshape(len(rows), self._vocab).copy()


def _read(sock, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def is_served(value) -> bool:
    return isinstance(value, dict) and set(value) == {"$served", "vocab"}


def proxy(marker: dict) -> Proxy:
    return Proxy(int(marker["$served"]), int(marker["vocab"]))
