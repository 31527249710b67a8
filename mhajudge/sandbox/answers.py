"""The shape of an answer: how a function's return value becomes named arrays.

A problem declares what each entry point returns as a small tree:

- ``"output"``: one array, named ``output``;
- ``"token:int"``: one integer (a Python or NumPy int), named ``token``;
- ``"tokens:ids"``: token ids, non-negative ints: a list of them, or a list of
  such lists of different lengths (beam search's hypotheses), padded with
  ``PAD = -1`` to a rectangle; a ``repeat`` program pads its calls' lists alike;
- ``[a, b]``: a tuple (or list) of exactly those parts, in order;
- ``{key: part}``: a dict with exactly those keys.

:func:`flatten` walks a returned value along that tree and gives a flat
``{name: ndarray}``. The child applies it to the candidate's return value and
the judge applies it to the reference's, so both are compared leaf by leaf.

Standard library and NumPy only: the child loads this file by path.
"""

from __future__ import annotations

import numpy as np


PAD = -1              # fills out token lists of different lengths (ids are never negative)
MAX_IDS = 10_000_000  # token ids in one answer


class AnswerError(Exception):
    """The return value does not have the declared structure."""


def describe(tree) -> str:
    """A tree written the way a candidate would write the return statement."""
    if isinstance(tree, str):
        return tree.split(":")[0]
    if isinstance(tree, list):
        return "(" + ", ".join(describe(t) for t in tree) + ")"
    return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in tree.items()) + "}"


def leaves(tree) -> list[str]:
    """The leaf names of a tree, in order."""
    if isinstance(tree, str):
        return [tree.split(":")[0]]
    if isinstance(tree, list):
        return [name for t in tree for name in leaves(t)]
    return [name for t in tree.values() for name in leaves(t)]


def kinds(tree) -> dict[str, str]:
    """``{leaf name: kind}`` (``""``, ``"int"`` or ``"ids"``)."""
    if isinstance(tree, str):
        name, _, kind = tree.partition(":")
        return {name: kind}
    subs = tree if isinstance(tree, list) else list(tree.values())
    return {name: kind for t in subs for name, kind in kinds(t).items()}


def _kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def to_array(value, name: str, integer: bool = False) -> np.ndarray:
    """``np.asarray`` with errors a candidate can act on."""
    if value is None:
        raise AnswerError(f"{name}: got None; did the function forget to `return`?")
    if isinstance(value, (str, bytes)):
        raise AnswerError(f"{name}: got a string {value[:40]!r}, expected numbers")
    try:
        arr = np.array(value, copy=True)  # copy: a subclass' overrides do not follow
    except (ValueError, TypeError) as exc:
        raise AnswerError(f"{name}: cannot be turned into a numeric array ({exc})") from None
    arr = arr.view(np.ndarray) if type(arr) is not np.ndarray else arr
    if arr.dtype.kind == "O":
        raise AnswerError(f"{name}: is an object array (ragged lists or mixed types), not numbers")
    if arr.dtype.kind == "c":
        raise AnswerError(f"{name}: has complex dtype {arr.dtype}; expected real numbers")
    if arr.dtype.kind not in "biuf":
        raise AnswerError(f"{name}: has dtype {arr.dtype}, not a numeric array")
    if integer:
        if arr.shape != ():
            raise AnswerError(f"{name}: expected one integer, got an array of shape {arr.shape}")
        if arr.dtype.kind == "f":
            raise AnswerError(f"{name}: expected an integer, got the float {arr.item()!r}")
    return arr


def _id_list(value, name: str) -> np.ndarray:
    """One list of token ids as a 1-D int64 array."""
    if isinstance(value, np.ndarray) and value.ndim == 1 and (value.dtype.kind in "iu" or value.size == 0):
        arr = value.astype(np.int64)  # np.array([]) is float64: an empty list of ids all the same
    elif type(value) in (list, tuple):
        if len(value) > MAX_IDS:
            raise AnswerError(f"{name}: more than {MAX_IDS} token ids")
        for t in value:
            if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)):
                raise AnswerError(f"{name}: holds a {type(t).__name__}; token ids are ints")
        try:
            arr = np.array([int(t) for t in value], dtype=np.int64)
        except OverflowError:
            raise AnswerError(f"{name}: a token id does not fit in 64 bits") from None
        arr = arr.reshape(-1)
    else:
        raise AnswerError(f"{name}: expected a list of int token ids, got {_kind(value)}")
    if arr.size and arr.min() < 0:
        raise AnswerError(f"{name}: holds the negative token id {int(arr.min())}")
    return arr


def pad_ids(parts: list) -> list:
    """Arrays of ids of one rank but different lengths, padded with :data:`PAD` to the largest."""
    if len({p.ndim for p in parts}) != 1:
        return parts
    shape = tuple(max(p.shape[d] for p in parts) for d in range(parts[0].ndim))
    out = []
    for p in parts:
        full = np.full(shape, PAD, dtype=np.int64)
        full[tuple(slice(0, n) for n in p.shape)] = p
        out.append(full)
    return out


def to_ids(value, name: str) -> np.ndarray:
    """Token ids: a list of ints (1-D), or a list of such lists (2-D, padded with -1)."""
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype.kind in "iu":
        value = list(value)
    if type(value) in (list, tuple) and value and not isinstance(value[0], (int, np.integer)):
        if len(value) > MAX_IDS:
            raise AnswerError(f"{name}: more than {MAX_IDS} token lists")
        rows = [_id_list(v, f"{name}[{i}]") for i, v in enumerate(value)]
        if sum(r.size for r in rows) > MAX_IDS:
            raise AnswerError(f"{name}: more than {MAX_IDS} token ids")
        return np.stack(pad_ids(rows))
    return _id_list(value, name)


def flatten(value, tree, path: str = "return value") -> dict[str, np.ndarray]:
    """Walk ``value`` along ``tree``; raise :class:`AnswerError` on mismatch."""
    if isinstance(tree, str):
        name, _, kind = tree.partition(":")
        if kind == "ids":
            return {name: to_ids(value, name)}
        return {name: to_array(value, name, integer=(kind == "int"))}
    if isinstance(tree, list):
        if not isinstance(value, (tuple, list)) or len(value) != len(tree):
            raise AnswerError(
                f"{path}: expected a tuple {describe(tree)} of {len(tree)} parts, "
                f"got {_kind(value)}"
                + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
            )
        out: dict[str, np.ndarray] = {}
        for part, sub in zip(value, tree):
            out.update(flatten(part, sub, describe(sub)))
        return out
    if not isinstance(value, dict):
        raise AnswerError(f"{path}: expected a dict with keys {sorted(tree)}, got {_kind(value)}")
    missing = [k for k in tree if k not in value]
    if missing:
        raise AnswerError(f"{path}: dict is missing the keys {missing}; it has {sorted(map(str, value))}")
    out = {}
    for key, sub in tree.items():
        out.update(flatten(value[key], sub, f"{path}[{key!r}]"))
    return out
