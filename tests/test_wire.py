"""The wire between the judge and the child: arrays as bytes plus a checked dtype and shape."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from mhajudge.sandbox import wire

DTYPES = st.sampled_from(["<f8", "<f4", "<f2", ">f8", "<i8", "<i4", "|i1", "<u2", "|u1", "|b1"])


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(DTYPES.map(np.dtype), hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)),
       st.booleans())
def test_an_array_comes_back_as_it_was_sent(arr, fortran):
    sent = np.array(arr, order="F") if fortran else arr
    _, payload = wire.unpack(wire.pack({"op": "x"}, {"a": sent, "t": (sent, [1, "s"])}))
    got = payload["a"]
    assert got.dtype == arr.dtype and got.shape == arr.shape
    np.testing.assert_array_equal(got, arr)
    assert got.flags.writeable and got.flags.c_contiguous  # a copy the receiver may change
    assert payload["t"][1] == [1, "s"]


def _frame(tag, blob=b"\0" * 8):
    return wire.pack({"op": "x"}) if tag is None else _raw({"op": "x", "payload": tag}, [blob])


def _raw(body, blobs):
    import json
    import struct

    body = {**body, "blobs": [len(b) for b in blobs]}
    header = json.dumps(body).encode()
    return struct.pack("<Q", len(header)) + header + b"".join(blobs)


HOSTILE = {
    "object dtype": {"$a": 0, "dtype": "|O", "shape": [1]},
    "complex": {"$a": 0, "dtype": "<c8", "shape": [1]},
    "text": {"$a": 0, "dtype": "<U2", "shape": [1]},
    "void": {"$a": 0, "dtype": "|V8", "shape": [1]},
    "structured": {"$a": 0, "dtype": [["x", "<f8"]], "shape": [1]},
    "dtype expression": {"$a": 0, "dtype": "np.float64", "shape": [1]},
    "no dtype": {"$a": 0, "shape": [1]},
    "negative side": {"$a": 0, "dtype": "<f8", "shape": [-1]},
    "bool side": {"$a": 0, "dtype": "<f8", "shape": [True]},
    "float side": {"$a": 0, "dtype": "<f8", "shape": [1.0]},
    "shape as text": {"$a": 0, "dtype": "<f8", "shape": "1"},
    "33 dims": {"$a": 0, "dtype": "<f8", "shape": [1] * 33},
    "absurd size": {"$a": 0, "dtype": "<f8", "shape": [1 << 40, 1 << 40]},
    "too few bytes": {"$a": 0, "dtype": "<f8", "shape": [2]},
    "negative blob": {"$a": -1, "dtype": "<f8", "shape": [1]},
    "blob past the end": {"$a": 1, "dtype": "<f8", "shape": [1]},
    "blob as bool": {"$a": True, "dtype": "<f8", "shape": [1]},
    "blob as text": {"$a": "0", "dtype": "<f8", "shape": [1]},
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_forged_array_tag_is_refused(name):
    with pytest.raises(wire.WireError):
        wire.unpack(_frame(HOSTILE[name]))


def test_the_tag_that_was_forged_reads_when_honest():
    """The frames above differ from a good one only in what they forge."""
    _, payload = wire.unpack(_frame({"$a": 0, "dtype": "<f8", "shape": [1]}, np.float64(2.5).tobytes()))
    assert payload.tolist() == [2.5]


def test_an_object_array_is_not_sent():
    with pytest.raises(ValueError):
        wire.pack({"op": "x"}, np.array([object()]))


def test_a_raw_frame_unpacks_to_what_read_frame_gives():
    import os

    frame = wire.pack({"op": "case", "id": 3}, {"args": [np.arange(4.0)]})
    r, w = os.pipe()
    os.write(w, frame + frame)
    os.close(w)
    msg, raw = wire.read_raw_frame(r, 1 << 20)
    assert raw == frame and msg["op"] == "case" and msg["id"] == 3
    again, payload = wire.read_frame(r, 1 << 20)
    os.close(r)
    assert again == wire.unpack(raw)[0]
    np.testing.assert_array_equal(payload["args"][0], wire.unpack(raw)[1]["args"][0])
