"""The shape of an answer: how a function's return value becomes named arrays.

A problem declares what each entry point returns as a small tree:

- ``"output"``: one array, named ``output``;
- ``"token:int"``: one integer (a Python or NumPy int), named ``token``;
- ``[a, b]``: a tuple (or list) of exactly those parts, in order;
- ``{key: part}``: a dict with exactly those keys.

:func:`flatten` walks a returned value along that tree and gives a flat
``{name: ndarray}``. The child applies it to the candidate's return value and
the judge applies it to the reference's, so both are compared leaf by leaf.

Standard library and NumPy only: the child loads this file by path.
"""

from __future__ import annotations

import numpy as np


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


def flatten(value, tree, path: str = "return value") -> dict[str, np.ndarray]:
    """Walk ``value`` along ``tree``; raise :class:`AnswerError` on mismatch."""
    if isinstance(tree, str):
        name, _, kind = tree.partition(":")
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
