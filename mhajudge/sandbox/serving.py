"""The judge's models answered from the trusted child: a case's calls go over a socket.

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

Neither the weights nor the counts are in the case's process: the case's process is
the spare forked before the case's frame came (the child forks a replacement at the
end of a case, not when the frame is in), and it gets the frame with the markers
taken out. It can write anything to its socket: a request is read against hard
bounds (:data:`MAX_REQUEST`), re-checked by the model, and a malformed one ends the
service (its next call raises). It can only add to its counts.

Request: ``b"STEP"``, the model's index, the number of prefixes and of tokens
(``<4sIII``), then each prefix's length (``uint32``) and the tokens (``int64``).
Reply: ``b"LOGP"``, a kind (0 the ``(n, V)`` float64 array follows; 1 a
``TypeError``, 2 a ``ValueError`` message follows, UTF-8) and the body's length
(``<4sBQ``).

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


class Server:
    """The child's end of one case's socket: reads its requests, answers them with the
    models built from the case's markers, and counts what was asked (calls, prefixes)."""

    def __init__(self, sock: socket.socket, markers: list):
        self.sock = sock
        self.sock.setblocking(False)
        self.models = [models.build(m) for m in markers]
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.closed = False  # a malformed request, or the case's process hung up

    def usage(self) -> dict:
        return {"calls": sum(m.usage()[0] for m in self.models), "rows": sum(m.usage()[1] for m in self.models)}

    def wants_write(self) -> bool:
        return bool(self.outbox) and not self.closed

    def on_readable(self, deadline: float) -> None:
        """Read what came; answer each whole request (none while a reply is still unsent)."""
        try:
            chunk = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            return
        self.inbox += chunk
        while not self.closed and not self.outbox and self._answer_one(deadline):
            pass

    def on_writable(self, deadline: float) -> None:
        try:
            sent = self.sock.send(self.outbox)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        del self.outbox[:sent]
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
        except TimeoutError:
            self.close()  # the case is out of time: the watch kills it
            return False
        except TypeError as exc:
            kind, data = TYPE_ERROR, str(exc).encode()
        except ValueError as exc:
            kind, data = VALUE_ERROR, str(exc).encode()
        self.outbox += REPLY.pack(b"LOGP", kind, len(data)) + data
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.outbox.clear()
            self.inbox.clear()
            try:
                self.sock.close()
            except OSError:
                pass


# -- in the case's process: the function the candidate calls ------------------------

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
