"""Mutation testing of a reference solution: do the hidden cases reject every one-line bug?

A *mutant* is the reference's source with one thing changed: an operator (``+`` for
``-``, ``>=`` for ``>``), a constant (``-1`` for ``-2``, ``True`` for ``False``), a
reduction (``max`` for ``min`` or ``mean``), an allocation (``np.zeros`` for
``np.empty``), a keyword (``keepdims=True`` for ``False``), or one statement deleted.
These are the near-misses a candidate writes under time pressure, so a mutant that
passes every hidden case is a hole in the cases, unless it is *equivalent* (computes
the same answers within the contract's tolerance, such as ``np.empty`` for an array
that is fully overwritten). Telling the equivalent ones apart needs an independent
oracle; ``benchmarks/mutation.py`` does that, ``mhajudge validate`` reports the
survivors of a small fixed set (:data:`VALIDATE_KINDS`) as warnings.

Mutants are trusted code (made by the judge from the reference), so they run in the
judge's own process the way named mistakes do, each in a forked child with a time
limit (a mutated loop bound may never end), judged case by case with an early stop
at the first case that rejects it. The reference answers are the cases' own
(computed once when the cases are built).

    mutants(source) -> [Mutant]              every single-site mutant, in source order
    judge(problem, cases, mutant) -> Verdict  the first hidden case that rejects it, if any
"""

from __future__ import annotations

import ast
import copy
import json
import os
import select
import signal
import time
from dataclasses import dataclass

# -- the mutants --------------------------------------------------------------------

BINOPS = {ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div], ast.Div: [ast.Mult],
          ast.FloorDiv: [ast.Div], ast.Pow: [ast.Mult], ast.MatMult: [ast.Mult], ast.Mod: [ast.FloorDiv]}
COMPARES = {ast.Lt: [ast.LtE], ast.LtE: [ast.Lt], ast.Gt: [ast.GtE], ast.GtE: [ast.Gt],
            ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Is: [ast.IsNot], ast.IsNot: [ast.Is]}
REDUCTIONS = {"max": ["min", "mean"], "min": ["max"], "sum": ["mean"], "mean": ["sum"],
              "maximum": ["minimum"], "minimum": ["maximum"], "argmax": ["argmin"],
              "zeros": ["empty"], "zeros_like": ["empty_like"], "full": ["empty"],
              "sqrt": [None], "exp": [None]}   # None: the call replaced by its first argument

#: The kinds ``mhajudge validate`` runs: cheap, few per line, the classic slips.
VALIDATE_KINDS = ("compare", "reduction", "keyword", "axis")
KINDS = ("binop", "compare", "reduction", "keyword", "axis", "constant", "unary", "boolop", "delete")


@dataclass
class Mutant:
    kind: str
    line: int
    description: str     # "line 14: x.max( -> x.min("
    source: str


def _name(func) -> str | None:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


class _Sites(ast.NodeVisitor):
    """Every place one mutation applies: (node path, kind, label, apply(node) -> new node)."""

    def __init__(self):
        self.sites = []

    def add(self, node, kind, label, fn):
        self.sites.append((node, kind, label, fn))

    def visit_BinOp(self, node):
        for new in BINOPS.get(type(node.op), []):
            self.add(node, "binop", f"{type(node.op).__name__} -> {new.__name__}",
                     lambda n, new=new: ast.BinOp(n.left, new(), n.right))
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        for new in BINOPS.get(type(node.op), []):
            self.add(node, "binop", f"{type(node.op).__name__}= -> {new.__name__}=",
                     lambda n, new=new: ast.AugAssign(n.target, new(), n.value))
        self.generic_visit(node)

    def visit_Compare(self, node):
        for i, op in enumerate(node.ops):
            for new in COMPARES.get(type(op), []):
                def swap(n, i=i, new=new):
                    ops = list(n.ops)
                    ops[i] = new()
                    return ast.Compare(n.left, ops, n.comparators)
                self.add(node, "compare", f"{type(op).__name__} -> {new.__name__}", swap)
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        self.add(node, "boolop", f"{type(node.op).__name__} -> {new.__name__}",
                 lambda n, new=new: ast.BoolOp(new(), n.values))
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, (ast.USub, ast.Not)):
            self.add(node, "unary", f"{type(node.op).__name__} removed", lambda n: n.operand)
        self.generic_visit(node)

    def visit_Call(self, node):
        name = _name(node.func)
        for new in REDUCTIONS.get(name, []):
            if new is None:
                if node.args:
                    self.add(node, "reduction", f"{name}(a) -> a", lambda n: n.args[0])
                continue

            def rename(n, new=new):
                func = copy.copy(n.func)
                if isinstance(func, ast.Attribute):
                    func.attr = new
                else:
                    func.id = new
                return ast.Call(func, n.args, n.keywords)
            self.add(node, "reduction", f"{name}( -> {new}(", rename)
        for i, kw in enumerate(node.keywords):
            if kw.arg == "keepdims" and isinstance(kw.value, ast.Constant):
                self.add(node, "keyword", f"keepdims={kw.value.value} -> {not kw.value.value}",
                         lambda n, i=i: _with_keyword(n, i, ast.Constant(not n.keywords[i].value.value)))
            if kw.arg == "axis":
                for new in _axis_values(kw.value):
                    self.add(node, "axis", f"axis={ast.unparse(kw.value)} -> {new}",
                             lambda n, i=i, new=new: _with_keyword(n, i, ast.parse(str(new), mode="eval").body))
        self.generic_visit(node)

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            self.add(node, "constant", f"{v} -> {not v}", lambda n: ast.Constant(not n.value))
        elif isinstance(v, int):
            for new in (v + 1, v - 1):
                self.add(node, "constant", f"{v} -> {new}", lambda n, new=new: ast.Constant(new))
        elif isinstance(v, float):
            for new in ((1.0,) if v == 0 else (v * 2, 0.0)):
                self.add(node, "constant", f"{v!r} -> {new!r}", lambda n, new=new: ast.Constant(new))

    def visit_FunctionDef(self, node):
        body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        for stmt in body:
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.For, ast.Raise)) and len(body) > 1:
                self.add(stmt, "delete", f"`{ast.unparse(stmt).splitlines()[0][:60]}` deleted", lambda n: ast.Pass())
        self.generic_visit(node)

    def visit_If(self, node):
        for stmt in node.body + node.orelse:
            if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Raise, ast.Return)):
                self.add(stmt, "delete", f"`{ast.unparse(stmt).splitlines()[0][:60]}` deleted", lambda n: ast.Pass())
        self.generic_visit(node)

    def visit_For(self, node):
        for stmt in node.body:
            if isinstance(stmt, (ast.Assign, ast.AugAssign)) and len(node.body) > 1:
                self.add(stmt, "delete", f"`{ast.unparse(stmt).splitlines()[0][:60]}` deleted", lambda n: ast.Pass())
        self.generic_visit(node)


def _with_keyword(call, i, value):
    kws = list(call.keywords)
    kws[i] = ast.keyword(kws[i].arg, value)
    return ast.Call(call.func, call.args, kws)


def _axis_values(node) -> list:
    try:
        v = ast.literal_eval(node)
    except ValueError:
        return []
    if isinstance(v, int):
        return [v - 1] if v < 0 else [v + 1]
    return []


class _Replace(ast.NodeTransformer):
    def __init__(self, target, fn):
        self.target, self.fn = target, fn

    def visit(self, node):
        if node is self.target:
            return ast.copy_location(self.fn(node), node)
        return super().visit(node)


def _skip(tree) -> set:
    """Nodes not worth mutating: docstrings, and the messages and tests of ``raise`` (their
    text is never judged)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef)) and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            skip.update(id(n) for n in ast.walk(node.body[0]))
        if isinstance(node, ast.Raise):
            skip.update(id(n) for n in ast.walk(node) if n is not node)
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
    return skip


def mutants(source: str, kinds=KINDS) -> list[Mutant]:
    """Every single-site mutant of ``source`` of the given kinds that still compiles."""
    tree = ast.parse(source)
    sites = _Sites()
    sites.visit(tree)
    skip = _skip(tree)
    out, seen = [], set()
    lines = source.splitlines()
    for node, kind, label, fn in sites.sites:
        if kind not in kinds or id(node) in skip:
            continue
        copy_tree = copy.deepcopy(tree)
        target = _find(copy_tree, tree, node)
        new = _Replace(target, fn).visit(copy_tree)
        ast.fix_missing_locations(new)
        try:
            text = ast.unparse(new)
            compile(text, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError):
            continue
        if text in seen:
            continue
        seen.add(text)
        line = getattr(node, "lineno", 0)
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        out.append(Mutant(kind, line, f"line {line}: {label}  ({code[:70]})", text))
    return out


def _find(copy_tree, tree, node):
    """The node of ``copy_tree`` at the place of ``node`` in ``tree`` (same walk order)."""
    for a, b in zip(ast.walk(tree), ast.walk(copy_tree)):
        if a is node:
            return b
    raise LookupError(node)


def load(mutant: Mutant, name: str = "mutant") -> dict:
    """The mutant's module namespace (trusted code: made by the judge from the reference)."""
    namespace = {"__name__": f"mhajudge_mutant_{name}"}
    exec(compile(mutant.source, f"<mutant {name}>", "exec"), namespace)
    return namespace


# -- judging a mutant ------------------------------------------------------------------

@dataclass
class Verdict:
    rejected: bool
    case: str = ""           # the first hidden case that rejects it
    verdict: str = ""        # its verdict there (wrong-answer, runtime-error, time-limit)
    seconds: float = 0.0


def run_case(fn, case):
    """The mutant's flat answer on one case, as the child would report it (an exception
    becomes a ``raised`` run; a memory program gets its ``$peak_bytes`` leaf)."""
    import numpy as np

    from .cases import run_reference
    from .sandbox.programs import PEAK_LEAF, exception_code
    from .sandbox.replies import RunResult

    try:
        with np.errstate(all="ignore"):
            if case.program.get("memory"):
                import tracemalloc

                tracemalloc.start()
                try:
                    answer = run_reference(fn, case.program, case.inputs)
                    peak = tracemalloc.get_traced_memory()[1]
                finally:
                    tracemalloc.stop()
                answer[PEAK_LEAF] = np.asarray(peak, dtype=np.int64)
            else:
                answer = run_reference(fn, case.program, case.inputs)
    except Exception as exc:  # noqa: BLE001 - a mutant's crash is its verdict
        code = exception_code(exc)
        return RunResult("raised", exception=code, message=f"{code}: {exc}")
    return RunResult("ok", answer=answer)


def judge_in_process(namespace: dict, cases) -> Verdict:
    """The first hidden case whose verdict is not ``accepted``, the mutant run in this process."""
    from .judge import verdict_for

    start = time.perf_counter()
    for case in cases:
        if case.group != "hidden":
            continue
        fn = namespace.get(case.fn)
        if fn is None:
            return Verdict(True, case.name, "load-error", time.perf_counter() - start)
        verdict = verdict_for(case, run_case(fn, case))[0]
        if verdict != "accepted":
            return Verdict(True, case.name, verdict, time.perf_counter() - start)
    return Verdict(False, seconds=time.perf_counter() - start)


def in_child(work, timeout: float, memory_bytes: int | None = 3 << 30):
    """``work()`` in a forked child, its JSON-able result back; ``{"timeout": True}`` past
    ``timeout`` seconds, ``{"crashed": status}`` when the child dies. The child inherits the
    built cases (and any cached answers), so nothing is rebuilt; ``memory_bytes`` more address
    space than the judge has is its limit (a mutated size may ask for terabytes)."""
    import resource

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(r)
        try:
            if memory_bytes:
                with open("/proc/self/statm") as f:
                    size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
                resource.setrlimit(resource.RLIMIT_AS, (size + memory_bytes, size + memory_bytes))
            data = json.dumps(work()).encode()
        except BaseException as exc:  # noqa: BLE001
            data = json.dumps({"crashed": f"{type(exc).__name__}: {exc}"[:300]}).encode()
        with os.fdopen(w, "wb") as out:
            out.write(data)
        os._exit(0)
    os.close(w)
    chunks, deadline = [], time.monotonic() + timeout
    with os.fdopen(r, "rb") as pipe:
        while True:
            left = deadline - time.monotonic()
            ready = select.select([pipe], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return {"timeout": True}
            chunk = os.read(pipe.fileno(), 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if not chunks:
        return {"crashed": f"exit status {status}"}
    return json.loads(b"".join(chunks))


def judge(cases, mutant: Mutant, timeout: float = 30.0) -> Verdict:
    """Judge one mutant on the hidden cases in a forked child, stopping at the first rejection."""
    def work():
        v = judge_in_process(load(mutant), cases)
        return {"rejected": v.rejected, "case": v.case, "verdict": v.verdict, "seconds": v.seconds}

    start = time.perf_counter()
    got = in_child(work, timeout)
    if "timeout" in got:
        return Verdict(True, "(all)", "time-limit", time.perf_counter() - start)
    if "crashed" in got:
        return Verdict(True, "(all)", "runtime-error: " + got["crashed"], time.perf_counter() - start)
    return Verdict(got["rejected"], got["case"], got["verdict"], got["seconds"])
