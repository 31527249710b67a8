"""The built-in case generator ``tensors``: random inputs described as data.

A hidden case group in a spec writes its inputs as expressions over named
dimensions::

    generator: tensors
    params:
      dims: {B: 2, H: 2, L: [3, 5], E: 8}   # a list is cycled over the count
      require: ["E % H == 0"]
      args:
        x: normal(B, L, E)                   # standard normal
        W_q: normal(E, E, scale=0.35)        # times a scale
        mask: mask(padding, B, 1, 1, L)      # a mask form, then its shape
        num_heads: $H                        # a dimension's value
        axis: 0                              # a literal

Mask forms (bool arrays; ``mask01(...)`` gives the same as 0/1 floats):

- ``random``: each entry kept with probability 1/2, every row keeps one key;
- ``padding``: along the last axis each leading index keeps a random prefix of
  at least one key (key padding);
- ``causal``: lower triangle over the last two axes, diagonal included;
- ``full_row``: ``random``, then one query row (the second, or the only one)
  blocked entirely;
- ``ones``: nothing masked.

Literal values that are lists become float arrays (``float32`` when the group
says so). Everything is drawn from the case's own seeded generator, so a case
is the same on every run unless ``MHAJUDGE_SECRET`` changes the seed.
"""

from __future__ import annotations

import ast
import operator
import re

from .errors import SpecError

CALL_RE = re.compile(r"^(\w+)\((.*)\)$")
MASK_FORMS = ("random", "padding", "causal", "full_row", "ones")
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
        ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}


def evaluate(expr: str, names: dict):
    """Arithmetic and comparisons over dimension names; nothing else."""
    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise KeyError(node.id)
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _OPS:
            return _OPS[type(node.ops[0])](ev(node.left), ev(node.comparators[0]))
        if isinstance(node, ast.BoolOp):
            vals = [ev(v) for v in node.values]
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        raise ValueError(f"unsupported expression {ast.dump(node)[:60]}")
    return ev(ast.parse(str(expr), mode="eval"))


def _split_args(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _fail(where: str, message: str):
    raise SpecError(f"{where}: {message}", hint="fix the problem spec, then run `mhajudge validate`")


def tensors(rng, params: dict, dtype: str, index: int, where: str) -> dict:
    """Draw one case's arguments from ``params`` (see the module docstring)."""
    import numpy as np

    dims_spec = params.get("dims", {}) or {}
    if not isinstance(dims_spec, dict):
        _fail(f"{where}.dims", "must be a mapping of names to sizes")
    dims = {}
    for name, value in dims_spec.items():
        choice = value[index % len(value)] if isinstance(value, list) and value else value
        if isinstance(choice, bool) or not isinstance(choice, (int, float)):
            _fail(f"{where}.dims.{name}", f"must be a number or a list of numbers, got {value!r}")
        dims[name] = choice
    for i, req in enumerate(params.get("require", []) or []):
        try:
            ok = evaluate(req, dims)
        except KeyError as exc:
            _fail(f"{where}.require[{i}]", f"unknown dimension {exc.args[0]!r} (dims are {', '.join(dims)})")
        except (ValueError, SyntaxError, ZeroDivisionError) as exc:
            _fail(f"{where}.require[{i}]", f"{req!r} is not an arithmetic condition: {exc}")
        if not ok:
            values = ", ".join(f"{k}={v}" for k, v in dims.items() if re.search(rf"\b{k}\b", str(req)))
            _fail(f"{where}.require[{i}]", f"{req!r} is false for {values}")
    float_dtype = np.float32 if dtype == "float32" else np.float64
    args_spec = params.get("args")
    if not isinstance(args_spec, dict) or not args_spec:
        _fail(f"{where}.args", "must map each argument to an expression such as normal(B, L, E)")
    out = {}
    for name, spec in args_spec.items():
        out[name] = _value(rng, spec, dims, float_dtype, f"{where}.args.{name}")
    return out


def _shape(parts: list[str], dims: dict, where: str) -> tuple:
    shape = []
    for p in parts:
        try:
            n = evaluate(p, dims)
        except KeyError as exc:
            _fail(where, f"unknown dimension {exc.args[0]!r} (dims are {', '.join(dims) or 'none'})")
        except (ValueError, SyntaxError) as exc:
            _fail(where, f"{p!r} is not a dimension expression: {exc}")
        if int(n) != n or n < 0:
            _fail(where, f"dimension {p!r} = {n} is not a non-negative whole number")
        shape.append(int(n))
    return tuple(shape)


def _value(rng, spec, dims: dict, float_dtype, where: str):
    import numpy as np

    if isinstance(spec, list):
        return np.asarray(spec, dtype=float_dtype)
    if not isinstance(spec, str):
        return spec  # a literal number, bool or None
    if spec.startswith("$"):
        try:
            value = evaluate(spec[1:], dims)
        except KeyError as exc:
            _fail(where, f"unknown dimension {exc.args[0]!r}")
        return int(value) if float(value).is_integer() else value
    m = CALL_RE.match(spec.strip())
    if not m:
        _fail(where, f"{spec!r} is not an expression: write normal(...), uniform(...), mask(...), "
                     "mask01(...), integers(...), $DIM or a literal (in YAML flow style {a: b}, "
                     "quote expressions that contain commas)")
    kind, inner = m.group(1), _split_args(m.group(2))
    keywords = {}
    while inner and "=" in inner[-1]:
        k, v = inner.pop().split("=", 1)
        keywords[k.strip()] = float(v)
    if kind in ("normal", "uniform"):
        shape = _shape(inner, dims, where)
        if kind == "normal":
            x = rng.standard_normal(shape) * keywords.get("scale", 1.0) + keywords.get("shift", 0.0)
        else:
            x = rng.uniform(keywords.get("low", -1.0), keywords.get("high", 1.0), shape)
        return x.astype(float_dtype)
    if kind in ("mask", "mask01"):
        if not inner or inner[0] not in MASK_FORMS:
            _fail(where, f"mask form must be one of {', '.join(MASK_FORMS)}")
        m = make_mask(rng, inner[0], _shape(inner[1:], dims, where))
        return m.astype(np.float64) if kind == "mask01" else m
    if kind == "integers":
        shape = _shape(inner, dims, where)
        return rng.integers(int(keywords.get("low", 0)), int(keywords.get("high", 100)), shape)
    _fail(where, f"unknown generator {kind!r} (use normal, uniform, mask, mask01, integers)")


def make_mask(rng, form: str, shape: tuple):
    """A boolean mask of ``shape`` (True = may attend) in one of the forms."""
    import numpy as np

    if form == "ones":
        return np.ones(shape, dtype=bool)
    if form == "causal":
        lq, lk = shape[-2], shape[-1]
        return np.broadcast_to(np.tril(np.ones((lq, lk), dtype=bool)), shape).copy()
    if form == "padding":
        lk = shape[-1]
        lead = shape[:-1]
        lengths = rng.integers(1, lk + 1, size=lead)
        return np.arange(lk) < lengths[..., None]
    m = rng.random(shape) < 0.5
    keep = rng.integers(0, shape[-1], size=shape[:-1])  # each row keeps at least one key
    np.put_along_axis(m, keep[..., None], True, axis=-1)
    if form == "full_row":
        if len(shape) < 2:
            m[...] = False
        else:
            row = 1 if shape[-2] > 1 else 0
            m[..., row, :] = False
    return m
