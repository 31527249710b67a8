"""The wire format between the judge and the sandboxed child.

A message is one frame: an 8-byte little-endian length of a JSON header, the
header, then the blobs the header lists. An array travels as its bytes in C order,
its dtype and shape in the header (``{"$a": blob, "dtype": "<f8", "shape": [2, 3]}``),
and is read back only after both have been checked (a numeric dtype, a size that
matches its bytes), so a candidate can send numbers and nothing else: no pickles,
no object arrays. (It was ``.npy`` once; parsing that header cost 80 us an array.)

This module imports only the standard library and NumPy, because the child
loads it by file path without importing the ``mhajudge`` package. NumPy is
imported lazily, so the judge can start the child before paying for NumPy.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MAX_HEADER = 4 << 20  # a JSON header larger than this is not ours (a repeat of 40000 seeds is ~1.3 MB)
ALLOWED_KINDS = "biuf"  # bool, signed, unsigned, floating: numbers only
MAX_DIMS = 32          # NumPy's own limit on dimensions


class WireError(Exception):
    """A frame that is malformed, too large or not made of plain numbers."""


# -- values <-> JSON plus blobs ----------------------------------------------

def encode(value, blobs: list[bytes]):
    """Turn a tree of arrays, scalars, tuples, lists and dicts into JSON."""
    np = sys.modules.get("numpy")  # no NumPy loaded: there can be no arrays
    if np is not None and isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise ValueError("Object arrays cannot be saved when allow_pickle=False")
        blobs.append(arr.tobytes())  # C order, whatever the array's layout
        return {"$a": len(blobs) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"$t": [encode(v, blobs) for v in value]}
    if isinstance(value, list):
        return [encode(v, blobs) for v in value]
    if isinstance(value, dict):
        return {"$d": {str(k): encode(v, blobs) for k, v in value.items()}}
    raise WireError(f"cannot send a value of type {type(value).__name__}")


def decode(obj, blobs: list[bytes]):
    """The inverse of :func:`encode`."""
    if isinstance(obj, dict):
        if "$a" in obj:
            return read_array(obj, blobs)
        if "$t" in obj:
            return tuple(decode(v, blobs) for v in obj["$t"])
        if "$d" in obj:
            return {k: decode(v, blobs) for k, v in obj["$d"].items()}
        raise WireError(f"unknown value tag in {sorted(obj)}")
    if isinstance(obj, list):
        return [decode(v, blobs) for v in obj]
    return obj


# A dtype as ``dtype.str`` spells it: byte order, kind (numbers only), item size.
DTYPE = re.compile(r"[<>|=][biuf][0-9]{1,2}")


def read_array(tag: dict, blobs: list) -> np.ndarray:
    """The array ``{"$a": blob, "dtype": ..., "shape": [...]}`` describes, refusing
    anything but a plain numeric array whose bytes are exactly its size."""
    import numpy as np

    descr, shape = tag.get("dtype"), tag.get("shape")
    if not isinstance(descr, str) or not DTYPE.fullmatch(descr):
        raise WireError(f"array of dtype {descr!r} is not a plain numeric array"[:200])
    try:
        dtype = np.dtype(descr)
    except TypeError as exc:
        raise WireError(f"bad array dtype {descr!r}: {exc}"[:200]) from None
    if dtype.hasobject or dtype.kind not in ALLOWED_KINDS or dtype.fields or dtype.subdtype:
        raise WireError(f"array of dtype {dtype} is not a plain numeric array")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or any(type(d) is not int or d < 0 for d in shape)):
        raise WireError(f"array header has an impossible shape {shape!r}"[:200])
    count = 1
    for d in shape:  # in Python ints: a header with absurd dimensions cannot overflow this
        count *= d
    at = tag["$a"]
    if type(at) is not int or not 0 <= at < len(blobs):
        raise WireError(f"array refers to blob {at!r} of {len(blobs)}"[:200])
    data = blobs[at]
    if len(data) != count * dtype.itemsize:
        raise WireError("array data does not match its header")
    return np.frombuffer(data, dtype=dtype, count=count).reshape(shape).copy()


# -- frames ---------------------------------------------------------------------

def pack(msg: dict, payload=None) -> bytes:
    """One frame: ``msg`` plus an optional value tree ``payload``."""
    blobs: list[bytes] = []
    body = dict(msg)
    if payload is not None:
        body["payload"] = encode(payload, blobs)
    body["blobs"] = [len(b) for b in blobs]
    header = json.dumps(body).encode()
    return struct.pack("<Q", len(header)) + header + b"".join(blobs)


def write_frame(fd: int, frame: bytes) -> None:
    view = memoryview(frame)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _header(raw: bytes) -> tuple[dict, list[int]]:
    """A frame's JSON header and its blob sizes."""
    try:
        msg = json.loads(raw)
        sizes = msg.pop("blobs", [])
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise WireError(f"frame header is not valid JSON: {exc}") from None
    if not isinstance(sizes, list) or not all(type(s) is int for s in sizes):  # not Infinity, 1e300 or "3"
        raise WireError("frame header lists sizes that are not whole numbers")
    if any(s < 0 for s in sizes):
        raise WireError("frame header lists a negative size")
    return msg, sizes


def _payload(msg: dict, blobs: list[bytes]):
    payload = msg.pop("payload", None)
    try:
        return decode(payload, blobs) if payload is not None else None
    except (IndexError, KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise WireError(f"frame payload is malformed: {exc!r}"[:300]) from None


def read_frame(fd: int, max_bytes: int):
    """Read one frame: returns ``(msg, payload)``; raises WireError if too big."""
    _, msg, blobs = _read_parts(fd, max_bytes)
    return msg, _payload(msg, blobs)


def read_raw_frame(fd: int, max_bytes: int) -> tuple[dict, bytes]:
    """Read one frame without decoding its payload: ``(msg, the frame's bytes)``.

    ``msg`` is the header (its payload still encoded); :func:`unpack` of the bytes gives
    what :func:`read_frame` would have, wherever that is done (the child hands a case's
    frame on to the process that runs it, which decodes the inputs itself).
    """
    header, msg, blobs = _read_parts(fd, max_bytes)
    return msg, struct.pack("<Q", len(header)) + header + b"".join(blobs)


def _read_parts(fd: int, max_bytes: int) -> tuple[bytes, dict, list[bytes]]:
    """A frame's header as read, as parsed, and its blobs."""
    (size,) = struct.unpack("<Q", read_exact(fd, 8))
    if size > MAX_HEADER:
        raise WireError(f"frame header of {size} bytes is too large")
    raw = read_exact(fd, size)
    msg, sizes = _header(raw)
    if sum(sizes) > max_bytes:
        raise WireError(f"the answer is {sum(sizes):,} bytes, over the limit of {max_bytes:,}")
    blobs = [read_exact(fd, s) for s in sizes]
    return raw, msg, blobs


def frame_size(data) -> int | None:
    """The length of the frame at the start of ``data``, once its header is all there.

    A malformed header counts as complete, so that :func:`unpack` says what is wrong.
    """
    if len(data) < 8:
        return None
    (size,) = struct.unpack("<Q", bytes(data[:8]))
    if len(data) < 8 + size:
        return None
    try:
        _, sizes = _header(bytes(data[8:8 + size]))
    except WireError:
        return len(data)
    return 8 + size + sum(sizes)


def unpack(frame: bytes):
    """One whole frame held in memory: ``(msg, payload)``, as :func:`read_frame` gives."""
    (size,) = struct.unpack("<Q", frame[:8])
    msg, sizes = _header(frame[8:8 + size])
    blobs, pos = [], 8 + size
    for s in sizes:
        blobs.append(frame[pos:pos + s])
        pos += s
    return msg, _payload(msg, blobs)
