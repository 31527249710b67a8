"""Problem specs: one YAML file per problem, loaded and validated.

The loader checks every field and reports the first problem by file and field,
for example ``problems/sdpa.yaml: hidden[2].params.require[0]: 'E % H == 0' is
false for E=10, H=3``. It imports no NumPy, so ``mhajudge list`` stays fast.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SpecError

DIFFICULTIES = ("easy", "medium", "hard")
DEFAULT_FORBIDDEN = ("torch", "jax", "jaxlib", "tensorflow", "scipy", "sklearn",
                     "mhajudge", "flax", "cupy", "numba")
DEFAULT_TOLERANCE = {"float64": {"atol": 1e-6, "rtol": 1e-5},
                     "float32": {"atol": 1e-4, "rtol": 1e-3}}
DTYPES = ("float64", "float32")
PROGRAMS = ("call", "repeat", "steps")
ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PARAM_RE = re.compile(r"^[A-Za-z_]\w*(=.+)?$")
TORCH_NAME_RE = re.compile(r"^torch(\.[A-Za-z_]\w*)+\*?$")


@dataclass
class EntryPoint:
    name: str
    params: list[str]          # as written: "Q", "mask=None"
    returns: object            # answer tree, see mhajudge.sandbox.answers
    doc: str = ""              # the starter file's docstring

    @property
    def required(self) -> list[str]:
        return [p for p in self.params if "=" not in p]

    @property
    def optional(self) -> dict[str, str]:
        return dict(p.split("=", 1) for p in self.params if "=" in p)

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


@dataclass
class CaseGroup:
    name: str
    group: str                 # "sample" or "hidden"
    call: str
    count: int = 1
    generator: str | None = None
    params: dict = field(default_factory=dict)
    args: dict | None = None   # literal arguments (sample cases)
    dtype: str = "float64"
    expect: str = "value"      # "value" or an exception name such as "ValueError"
    tolerance: dict | None = None
    time_limit: float | None = None
    weight: float = 1.0
    omit: list = field(default_factory=list)   # optional params left out of the call: the defaults judged
    where: str = ""            # "samples[0]" for error messages


@dataclass
class Problem:
    id: str
    title: str
    difficulty: str
    tags: list[str]
    statement: str
    entry_points: list[EntryPoint]
    samples: list[CaseGroup]
    hidden: list[CaseGroup]
    reference: str
    path: Path
    tolerance: dict = field(default_factory=lambda: dict(DEFAULT_TOLERANCE))
    forbidden: list[str] = field(default_factory=lambda: list(DEFAULT_FORBIDDEN))
    torch_forbidden: list[str] = field(default_factory=list)  # torch functions banned on the torch track
    mistakes: list[dict] = field(default_factory=list)
    pitfalls: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    time_limit: float = 10.0
    source: str = ""
    perf: dict | None = None   # how `run --perf` grows the inputs, see mhajudge.perf

    def entry(self, name: str) -> EntryPoint:
        for ep in self.entry_points:
            if ep.name == name:
                return ep
        raise KeyError(name)

    @property
    def groups(self) -> list[CaseGroup]:
        return self.samples + self.hidden


class _Reader:
    """Typed access to a YAML mapping that knows where it is, for errors."""

    def __init__(self, file: str, data, where: str = ""):
        self.file, self.data, self.where = file, data, where

    def fail(self, key, message: str):
        if isinstance(key, int):
            path = f"{self.where}[{key}]"
        else:
            path = f"{self.where}.{key}" if self.where and key != "" else (self.where or str(key))
        raise SpecError(f"{self.file}: {path}: {message}",
                        hint="fix the problem spec, then check it with `mhajudge validate`")

    def child(self, key, data) -> "_Reader":
        if isinstance(key, int):
            where = f"{self.where}[{key}]"
        else:
            where = f"{self.where}.{key}" if self.where else str(key)
        return _Reader(self.file, data, where)

    def get(self, key, kind, default=..., choices=None):
        if not isinstance(self.data, dict):
            self.fail("", "must be a mapping")
        if key not in self.data:
            if default is ...:
                self.fail(key, "is required")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.fail(key, f"must be a {names}, got {type(value).__name__} {value!r}"[:200])
        if choices is not None and value not in choices:
            self.fail(key, f"must be one of {', '.join(map(str, choices))}; got {value!r}")
        return value

    def strings(self, key, default=...):
        value = self.get(key, list, default)
        for i, item in enumerate(value or []):
            if not isinstance(item, str):
                self.child(key, value).fail(i, f"must be a string, got {item!r}")
        return value


def _check_tree(r: _Reader, key, tree):
    if isinstance(tree, str):
        name, _, kind = tree.partition(":")
        if not name.isidentifier() or kind not in ("", "int", "ids"):
            r.fail(key, f"{tree!r} is not a leaf name (write `output`, `token:int` or `tokens:ids`)")
        return
    if isinstance(tree, list):
        for i, sub in enumerate(tree):
            _check_tree(r.child(key, tree), i, sub)
        return
    if isinstance(tree, dict):
        for k, sub in tree.items():
            _check_tree(r.child(key, tree), k, sub)
        return
    r.fail(key, f"must be a name, a list or a mapping, got {tree!r}")


def _tolerance(r: _Reader, key, value, default=None):
    if value is None:
        return default
    if not isinstance(value, dict):
        r.fail(key, "must be a mapping")
    t = r.child(key, value)
    for k in value:
        if k not in ("atol", "rtol") + DTYPES:
            t.fail(k, "unknown key (use atol, rtol, or float64/float32 with atol and rtol)")
    if "atol" in value or "rtol" in value:
        return {"atol": t.get("atol", float), "rtol": t.get("rtol", float)}
    out = dict(default or DEFAULT_TOLERANCE)
    for dt in DTYPES:
        if dt in value:
            d = t.child(dt, value[dt])
            out[dt] = {"atol": d.get("atol", float), "rtol": d.get("rtol", float)}
    return out


def _group(r: _Reader, data, index: int, group: str, problem_eps: dict) -> CaseGroup:
    g = r.child(index, data)
    name = g.get("name", str)
    call = g.get("call", str, default=None)
    if call is None:
        if len(problem_eps) != 1:
            g.fail("call", f"is required: the problem has several entry points ({', '.join(problem_eps)})")
        call = next(iter(problem_eps))
    elif call not in problem_eps:
        g.fail("call", f"names no entry point; the problem has {', '.join(problem_eps)}")
    cg = CaseGroup(name=name, group=group, call=call, where=g.where)
    cg.count = g.get("count", int, 1)
    if cg.count < 1:
        g.fail("count", "must be at least 1")
    cg.dtype = g.get("dtype", str, "float64", choices=DTYPES)
    cg.expect = g.get("expect", str, "value")
    if cg.expect != "value" and not cg.expect.isidentifier():
        g.fail("expect", "must be `value` or an exception name such as ValueError")
    cg.tolerance = _tolerance(g, "tolerance", g.get("tolerance", dict, None))
    cg.time_limit = g.get("time_limit", float, None)
    cg.weight = g.get("weight", float, 1.0)
    if not (cg.weight >= 0 and cg.weight != float("inf")):  # a score must stay between 0 and 1
        g.fail("weight", f"must be a number of at least 0, got {cg.weight!r}")
    args = g.get("args", dict, None)
    generator = g.get("generator", str, None)
    if (args is None) == (generator is None):
        g.fail("args", "give either literal `args` or a `generator` with `params`")
    cg.args, cg.generator = args, generator
    cg.params = g.get("params", dict, {})
    cg.omit = g.get("omit", list, [])
    optional = problem_eps[call].optional
    for i, name in enumerate(cg.omit):
        if name not in optional:
            g.child("omit", cg.omit).fail(i, f"{name!r} is not an optional parameter of "
                                             f"{problem_eps[call].signature}; `omit` leaves out parameters "
                                             f"that have a default, so that the default is judged")
    if args is not None:
        ep = problem_eps[call]
        known = [p.split("=")[0] for p in ep.params]
        for k in args:
            if k not in known:
                g.child("args", args).fail(k, f"is not a parameter of {ep.signature}")
        for p in ep.required:
            if p not in args:
                g.child("args", args).fail(p, f"is required by {ep.signature}")
    return cg


def load(path: Path) -> Problem:
    """Load and validate one problem spec; raise SpecError naming file and field."""
    import yaml

    path = Path(path)
    file = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SpecError(f"{file}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    r = _Reader(file, data)
    if not isinstance(data, dict):
        r.fail("", "the spec must be a mapping of fields")
    known = {"id", "title", "difficulty", "tags", "statement", "entry_points", "samples", "hidden",
             "reference", "tolerance", "forbidden", "allowed", "mistakes", "pitfalls", "hints",
             "time_limit", "source", "perf", "torch_forbidden"}
    for key in data:
        if key not in known:
            r.fail(key, f"unknown field (known: {', '.join(sorted(known))})")
    pid = r.get("id", str)
    if not ID_RE.match(pid):
        r.fail("id", f"{pid!r} must be lowercase words joined by hyphens")
    if path.suffix == ".yaml" and path.stem != pid:
        r.fail("id", f"{pid!r} must match the file name {path.name}")

    eps = {}
    ep_list = r.get("entry_points", list)
    if not ep_list:
        r.fail("entry_points", "needs at least one entry point")
    for i, e in enumerate(ep_list):
        er = r.child("entry_points", ep_list).child(i, e)
        name = er.get("name", str)
        if not name.isidentifier():
            er.fail("name", f"{name!r} is not a Python identifier")
        params = er.strings("params")
        for j, p in enumerate(params):
            if not PARAM_RE.match(p.replace(" ", "")):
                er.child("params", params).fail(j, f"{p!r} is not `name` or `name=default`")
        params = [p.replace(" ", "") for p in params]
        returns = er.get("returns", (str, list, dict))
        _check_tree(er, "returns", returns)
        eps[name] = EntryPoint(name, params, returns, er.get("doc", str, ""))

    problem = Problem(
        id=pid,
        title=r.get("title", str),
        difficulty=r.get("difficulty", str, choices=DIFFICULTIES),
        tags=r.strings("tags", []),
        statement=r.get("statement", str),
        entry_points=list(eps.values()),
        samples=[],
        hidden=[],
        reference=r.get("reference", str, pid.replace("-", "_")),
        path=path,
    )
    problem.source = r.get("source", str, "")
    problem.tolerance = _tolerance(r, "tolerance", r.get("tolerance", dict, None), DEFAULT_TOLERANCE)
    allowed = set(r.strings("allowed", []))
    problem.forbidden = [m for m in DEFAULT_FORBIDDEN if m not in allowed] + [
        m for m in r.strings("forbidden", []) if m not in DEFAULT_FORBIDDEN]
    problem.torch_forbidden = r.strings("torch_forbidden", [])
    for i, name in enumerate(problem.torch_forbidden):
        if not TORCH_NAME_RE.match(name):
            r.child("torch_forbidden", problem.torch_forbidden).fail(
                i, f"{name!r} is not a dotted torch name such as torch.softmax, torch.nn.functional.softmax, "
                   "torch.Tensor.softmax or torch.ops.aten._softmax (a final * is a wildcard)")
    problem.pitfalls = r.strings("pitfalls", [])
    problem.hints = r.strings("hints", [])
    problem.time_limit = r.get("time_limit", float, 10.0)
    perf = r.get("perf", dict, None)
    if perf is not None:
        pr = r.child("perf", perf)
        call = pr.get("call", str, problem.entry_points[0].name)
        if call not in eps:
            pr.fail("call", f"names no entry point; the problem has {', '.join(eps)}")
        dim = pr.get("dim", str, "L")
        sizes = pr.get("sizes", list)
        if len(sizes) < 3 or not all(isinstance(x, int) and x > 0 for x in sizes) or sizes != sorted(set(sizes)):
            pr.fail("sizes", "must be at least three growing positive whole numbers")
        problem.perf = {"call": call, "dim": dim, "sizes": sizes, "params": pr.get("params", dict),
                        "exponent": pr.get("exponent", float, 2.0)}
    problem.mistakes = _mistakes(r, r.get("mistakes", list, []), path.parent / "mistakes.yaml")
    samples = r.get("samples", list, [])
    problem.samples = [_group(r.child("samples", samples), s, i, "sample", eps) for i, s in enumerate(samples)]
    hidden = r.get("hidden", list)
    problem.hidden = [_group(r.child("hidden", hidden), h, i, "hidden", eps) for i, h in enumerate(hidden)]
    if not problem.hidden:
        r.fail("hidden", "needs at least one hidden case group")
    names = [g.name for g in problem.groups]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        r.fail("hidden", f"case group names must be unique; repeated: {', '.join(sorted(dup))}")
    return problem


@functools.lru_cache(maxsize=None)
def catalogue(path: Path) -> dict:
    """The shared descriptions of named mistakes (``problems/mistakes.yaml``, beside the specs)."""
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise SpecError(f"problems/mistakes.yaml: cannot read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise SpecError("problems/mistakes.yaml: must map mistake ids to descriptions")
    for key, value in data.items():
        if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("title", "why", "fix")):
            raise SpecError(f"problems/mistakes.yaml: {key}: needs title, why and fix as text")
    return data


def _mistakes(r: _Reader, items: list, shared: Path) -> list[dict]:
    """Each item is a catalogue id, or a mapping {id, title, why, fix}."""
    known = catalogue(shared) if any(isinstance(i, str) for i in items) else {}
    out = []
    for i, item in enumerate(items):
        mr = r.child("mistakes", items)
        if isinstance(item, str):
            if item not in known:
                mr.fail(i, f"{item!r} is not in problems/mistakes.yaml; describe it here "
                           "as a mapping with id, title, why and fix")
            out.append(dict(known[item], id=item))
        elif isinstance(item, dict):
            m = mr.child(i, item)
            out.append({"id": m.get("id", str), "title": m.get("title", str),
                        "why": m.get("why", str), "fix": m.get("fix", str)})
        else:
            mr.fail(i, "must be a mistake id or a mapping")
    return out


def _display(path: Path) -> str:
    """A path as the user should see it: ``problems/ID.yaml`` for the bank's own specs,
    any other as it was given (``validate /tmp/x/broken.yaml`` names that file, not ``x/broken.yaml``)."""
    from .bank import root

    try:
        return str(Path(path).resolve().relative_to(root().resolve()))
    except (ValueError, OSError):
        return str(path)
