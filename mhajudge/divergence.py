"""Where the code first goes wrong: the first line whose value the reference never has.

For a failing case no named mistake explains, the judge re-runs one small failing case
with the candidate's function traced in the case's process (:mod:`.sandbox.tracing`):
each line's new array values come back as plain arrays (:mod:`.sandbox.traces`). The
reference is traced the same way here, in the judge, on the same inputs: expected
values never enter the candidate's process.

Each captured value is compared with the reference's intermediate values: the same
array, or a transpose or reshape of one, or one slice of one (a loop over heads). The
*divergence* is the first line whose value matches none of them although the values
it was computed from (the names its statement reads) did. A value that matches
nothing but only feeds values that match is a helper the reference does not name
(a row maximum kept in its own variable), not a divergence.

``trace_rows`` is the same data for ``run --trace``: every line's shapes beside the
reference's shape annotations (its ``# (B, H, L, d_k)`` comments).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from itertools import permutations

from . import bank
from .cases import materialize
from .untrusted import PARSE_ERRORS
from .sandbox.traces import Capture, read_trace
from .sandbox.tracing import LIMITS, Tracer

ANNOTATION_RE = re.compile(r"#\s*(\([^)]*\))")
MAX_SLICES = 64


@dataclass
class Traced:
    """Both sides of one traced case."""
    case: object
    mine: list            # the candidate's captures
    reference: list       # the reference's captures
    ref_source: list      # the reference file's lines
    source: list          # the candidate's file's lines


# -- running both sides ----------------------------------------------------------

def traceable(case) -> bool:
    return (case is not None and case.program.get("kind", "call") == "call" and case.check is None
            and case.expect == "value" and not case.program.get("memory"))


def _size(case) -> int:
    import numpy as np

    def count(v):
        if isinstance(v, np.ndarray):
            return v.size
        if isinstance(v, dict):
            return sum(count(x) for x in v.values())
        if isinstance(v, (list, tuple)):
            return sum(count(x) for x in v)
        return 1
    return count(case.inputs)


def _degenerate(case) -> bool:
    """Does an input array have an axis of length 1 (one query, L = 1)? There many wrong
    lines compute what right ones do (a max over one row is the row), so such a case
    shows the first wrong line later than a typical one does."""
    import numpy as np

    arrays = [v for v in list(case.inputs.get("args", [])) + list(case.inputs.get("kwargs", {}).values())
              if isinstance(v, np.ndarray) and v.ndim >= 1]
    if any(1 in a.shape for a in arrays):
        return True
    # Q = K = V (self-attention given one array thrice): the scores are symmetric, so a
    # softmax over the wrong axis is the right one transposed.
    return any(a.shape == b.shape and np.array_equal(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])


def pick_case(report, names: set | None = None):
    """The smallest traceable failing case (wrong answer), of ``names`` when given;
    one without an axis of length 1 when there is one."""
    failing = [c for c in report.cases if c.verdict == "wrong-answer" and traceable(c.case)
               and (names is None or c.name in names)]
    return min(failing, key=lambda c: (_degenerate(c.case), _size(c.case))) if failing else None


def trace_candidate(box, case) -> list | None:
    program = dict(case.program, trace=dict(LIMITS))
    got = box.run(case.index, program, case.inputs, case.time_limit, read=read_trace)
    return got if isinstance(got, list) else None


def trace_reference(problem, case) -> tuple[list, list]:
    """The reference's captures on the case, and its source lines."""
    import numpy as np

    fn = getattr(bank.reference_module(problem.reference), case.fn)
    filename = fn.__code__.co_filename
    call = materialize(case.inputs)
    with np.errstate(all="ignore"):
        _, raw = Tracer(filename).run(fn, call.get("args", []), call.get("kwargs", {}))
    caps = [Capture(c["fn"], c["line"], c["name"], tuple(c["shape"]), c["value"]) for c in raw]
    with open(filename, encoding="utf-8") as f:
        return caps, f.read().splitlines()


def trace_both(problem, box, case, source_text: str) -> Traced | None:
    mine = trace_candidate(box, case)
    if not mine:
        return None
    reference, ref_source = trace_reference(problem, case)
    return Traced(case, mine, reference, ref_source, source_text.splitlines())


# -- comparing values ----------------------------------------------------------

def _close(a, b, tol) -> bool:
    import numpy as np

    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(a.astype(np.float64), b.astype(np.float64), atol=tol["atol"], rtol=tol["rtol"],
                                equal_nan=True))


def _views(r, size: int):
    """The reference value ``r`` as arrays of ``size`` elements: itself, transposed, or sliced."""
    if r.size == size:
        yield r
        if 2 <= r.ndim <= 4:
            for p in permutations(range(r.ndim)):
                if p != tuple(range(r.ndim)):
                    yield r.transpose(p)
        return
    if r.ndim < 3 or size <= 1:                  # a row of a matrix, an element: coincidences
        return
    slices = [r]
    for _ in range(2):                           # r[i], then r[i, j]: one head, one batch item
        slices = [s[i] for s in slices if s.ndim >= 1 for i in range(s.shape[0])][:MAX_SLICES]
        for s in slices:
            if s.size == size:
                yield s


def matches(value, reference: list, tol, name: str = "") -> bool:
    """Is ``value`` one of the reference's values (up to a transpose, reshape or slice)?

    A single number (a size such as d_k, a scale) matches only the reference's number of
    the same name: two sizes are equal by chance too often (d_k = L). A right number
    under another name still counts as right, through what it feeds (see divergence)."""
    if value is None:
        return True          # too large to copy: not evidence either way
    for r in reference:
        if r.value is None or value.size <= 1 and r.name != name:
            continue
        for view in _views(r.value, value.size):
            if _close(value, view.reshape(value.shape), tol):
                return True
    return False


def relation(value, ref) -> str:
    """How ``value`` differs from the same-sized reference array ``ref``, in words."""
    import numpy as np

    a = value.astype(np.float64).ravel()
    b = ref.astype(np.float64).reshape(-1)
    if a.shape != b.shape:
        return f"has shape {value.shape} where the reference's has {ref.shape}"
    bad_a, bad_b = ~np.isfinite(a), ~np.isfinite(b)
    if (bad_a & ~bad_b).any():
        return f"has NaN/inf in {int((bad_a & ~bad_b).sum())} of {a.size} places where the reference's is finite"
    both = ~bad_a & ~bad_b
    a, b = a[both], b[both]
    if not a.size:
        return "differs"
    scale = max(float(np.abs(b).max()), 1e-12)
    nz = np.abs(b) > 1e-9 * scale
    if nz.sum() >= 2:
        ratio = a[nz] / b[nz]
        if np.ptp(ratio) <= 1e-6 * max(1.0, abs(float(ratio.mean()))) and abs(ratio.mean() - 1) > 1e-6:
            return f"by a constant factor (x{float(ratio.mean()):.4g})"
    diff = a - b
    if a.size >= 2 and np.ptp(diff) <= 1e-9 * scale and abs(diff.mean()) > 1e-9 * scale:
        return f"by a constant ({float(diff.mean()):+.4g})"
    if a.size >= 2 and np.allclose(np.sort(a), np.sort(b)):
        return "in the order of its values (the same values, elsewhere)"
    return f"(largest difference {float(np.abs(diff).max()):.3g})"


def _nearest(cap, reference: list):
    """The reference capture to explain ``cap`` against: same name and size, else same size."""
    import numpy as np

    same = [r for r in reference if r.value is not None and r.value.size == cap.value.size]
    named = [r for r in same if r.name == cap.name]
    if named:
        return named[0]
    if not same:
        return None

    def err(r):
        with np.errstate(all="ignore"):
            d = np.abs(cap.value.astype(np.float64).ravel() - r.value.astype(np.float64).ravel())
        d = d[np.isfinite(d)]
        return float(d.mean()) if d.size else np.inf
    return min(same, key=err)


# -- the data flow ------------------------------------------------------------------

def _loads(nodes) -> set:
    return {n.id for part in nodes if part is not None for n in ast.walk(part)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _reads(source_lines: list) -> dict:
    """line -> the names the innermost statement on that line reads (for a loop or an
    ``if``, its header: what it iterates over or tests)."""
    try:
        tree = ast.parse("\n".join(source_lines))
    except PARSE_ERRORS:
        return {}
    simple, headers = {}, {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt) or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if hasattr(node, "body"):                                  # for, while, if, with, try
            parts = [getattr(node, "iter", None), getattr(node, "test", None)]
            parts += [item.context_expr for item in getattr(node, "items", [])]
            end = max((p.end_lineno for p in parts if p is not None), default=node.lineno)
            for line in range(node.lineno, end + 1):
                headers[line] = headers.get(line, set()) | _loads(parts)
            continue
        names = _loads([node])
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)                              # x += y reads x
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
            simple[line] = names
    return {**headers, **simple}


def divergence(traced: Traced) -> dict | None:
    """The first line that goes wrong, as the contract's ``divergence`` object, or None."""
    caps, tol = traced.mine, traced.case.tolerance
    reads = _reads(traced.source)
    def_lines = {}
    for c in caps:
        def_lines.setdefault(c.fn, c.line)       # a function's first capture is its parameters
    ok = [matches(c.value, traced.reference, tol, c.name) for c in caps]
    inputs: list[list[int]] = []
    for i, c in enumerate(caps):
        wanted = reads.get(c.line, set()) - {c.name}
        found = []
        for name in wanted:
            for j in range(i - 1, -1, -1):
                if caps[j].fn == c.fn and caps[j].name == name:
                    found.append(j)
                    break
        if c.name in reads.get(c.line, set()):            # x = f(x): the previous x
            for j in range(i - 1, -1, -1):
                if caps[j].fn == c.fn and caps[j].name == c.name:
                    found.append(j)
                    break
        inputs.append(found)
    consumers: list[list[int]] = [[] for _ in caps]
    for i, found in enumerate(inputs):
        for j in found:
            consumers[j].append(i)
    good = [ok[i] or (bool(consumers[i]) and all(ok[k] for k in consumers[i])) or _count(caps[i].value)
            or (_filled(caps[i].value) and not caps[i].name.startswith("return")) for i in range(len(caps))]
    for i, c in enumerate(caps):
        if good[i] or c.value is None or c.line == def_lines.get(c.fn) and not c.name.startswith("return"):
            continue
        if all(good[j] for j in inputs[i]):
            return _describe(traced, c)
    return None


def _count(value) -> bool:
    """A single whole number (a size, a head count, a loop index): never the line to blame.
    Real code renames them (`h = num_heads`, `B, T, V = logits.shape`) and counts with them
    (`for h in range(num_heads)`), and under another name than the reference's they match
    nothing; a wrong one shows in the first array computed from it."""
    import numpy as np

    if value is None or value.size != 1 or value.dtype.kind not in "biuf":
        return False
    x = float(value.reshape(-1)[0])
    return np.isfinite(x) and x == int(x) and (value.dtype.kind != "f" or abs(x) < 2 ** 31)


def _filled(value) -> bool:
    """An array of one value throughout (``np.zeros_like(Q)``, a running max of -inf): an
    accumulator being set up, which the reference may hold under no name at all."""
    import numpy as np

    if value is None or value.size < 2 or value.dtype.kind not in "biuf":
        return False
    flat = value.reshape(-1)
    return bool(np.all(flat == flat[0]))


def _describe(traced: Traced, cap) -> dict:
    from .untrusted import clean

    text = traced.source[cap.line - 1].strip() if 0 < cap.line <= len(traced.source) else ""
    text = clean(text, 120)
    ref = _nearest(cap, traced.reference)
    what = "your return value" if cap.name.startswith("return") else f"your {cap.name}"
    if ref is None:
        how = f"{what} (shape {cap.shape}) matches none of the reference's values"
    else:
        theirs = "return value" if ref.name.startswith("return") else ref.name
        how = f"{what} differs from the reference's {theirs} {relation(cap.value, ref.value)}"
    variable = "return" if cap.name.startswith("return") else cap.name
    return {"case": traced.case.name, "line": cap.line, "variable": variable,
            "message": f"line {cap.line}: {text} - {how}"}


def find(problem, report, box, source_text: str, names: set | None = None) -> dict | None:
    """Trace the smallest failing case (of ``names``) and find where the code first goes wrong."""
    result = pick_case(report, names)
    if result is None:
        return None
    traced = trace_both(problem, box, result.case, source_text)
    return divergence(traced) if traced else None


# -- run --trace ------------------------------------------------------------------

def trace_rows(traced: Traced) -> list[dict]:
    """Every captured line of the candidate: its code, the value's shape, and the shape
    annotation of the reference line computing the value it matches (if one does)."""
    rows = []
    tol = traced.case.tolerance
    firsts = {}
    for r in traced.reference:
        firsts.setdefault(r.fn, r.line)            # the def line: a function's parameters
    for c in traced.mine:
        text = traced.source[c.line - 1].strip() if 0 < c.line <= len(traced.source) else ""
        ref_line, note = None, ""
        # Prefer a value the reference computes under the same name, then any it computes,
        # then its parameters (a reshape of an input matches the input).
        order = sorted(traced.reference, key=lambda r: (firsts.get(r.fn) == r.line, r.name != c.name))
        if c.value is not None:
            for r in order:
                if r.value is not None and any(_close(c.value, v.reshape(c.value.shape), tol)
                                               for v in _views(r.value, c.value.size)):
                    ref_line = r.line
                    break
        if ref_line is not None and 0 < ref_line <= len(traced.ref_source):
            m = ANNOTATION_RE.search(traced.ref_source[ref_line - 1])
            note = m.group(1) if m else ""
        rows.append({"line": c.line, "code": text, "name": c.name, "shape": c.shape,
                     "matches": ref_line is not None or c.value is None, "reference_line": ref_line,
                     "annotation": note})
    return rows
