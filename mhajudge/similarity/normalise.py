"""Normalising one source: what varies between copies of the same code is taken out.

Docstrings, comments, imports and statements that do nothing go; aliases of the same
call become one (``np.matmul``, ``np.dot``, ``a.dot(b)`` are ``a @ b``); local names are
numbered by first use within each statement; each function becomes one list of tokens
(so their order does not matter). See :mod:`mhajudge.similarity`.
"""

from __future__ import annotations

import ast
import copy

from . import MAX_CHARS, MAX_REPAIRS
from .tokens import raw_units, text_tokens

_TRY_STAR = getattr(ast, "TryStar", ast.Try)  # Python 3.11+
_MATMUL = {"numpy.matmul", "numpy.dot", "operator.matmul", "torch.matmul"}
_REDUCTIONS = {"sum", "max", "min", "mean", "prod", "std", "var", "argmax", "argmin", "cumsum", "any", "all"}
_FUNCTION_FORM = _REDUCTIONS | {"transpose", "swapaxes", "reshape", "squeeze", "clip", "round"}


def units(source: str) -> list[list[str]]:
    """The normalised token lists of a source: one per function or method, one for the
    rest of the module; raw tokens when it cannot be parsed even after repair."""
    if len(source) > MAX_CHARS:
        source = source[:source.rfind("\n", 0, MAX_CHARS) + 1 or MAX_CHARS]
    tree = _parse(source)
    if tree is None:
        return raw_units(source)
    try:
        return _units(tree)
    except (RecursionError, MemoryError, ValueError, TypeError, AttributeError):
        return raw_units(source)


# ---------------------------------------------------------------- parsing


def _parse(source: str) -> ast.Module | None:
    lines = source.split("\n")
    for _ in range(MAX_REPAIRS + 1):
        try:
            return ast.parse("\n".join(lines))
        except SyntaxError as exc:  # IndentationError included
            bad = (exc.lineno or 0) - 1
            if not 0 <= bad < len(lines) or lines[bad].strip() in ("", "pass", "if True:"):
                return None
            lines[bad] = _repair(lines, bad)
        except (RecursionError, MemoryError, ValueError, OverflowError):  # too deep, NUL bytes...
            return None
    return None


def _repair(lines: list[str], bad: int) -> str:
    """What replaces a line the parser rejects: ``pass`` at its indentation, or a block
    header (``if True:``, inlined later) when the next line is indented deeper."""
    indent = len(lines[bad]) - len(lines[bad].lstrip())
    deeper = next((len(ln) - len(ln.lstrip()) > indent for ln in lines[bad + 1:] if ln.strip()), False)
    return " " * indent + ("if True:" if deeper else "pass")


# ---------------------------------------------------------------- normalising

def _dotted(node) -> str | None:
    """``numpy.linalg.norm`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _einsum_spec(spec: str) -> str:
    """``"bqd,bkd->bqk"`` -> ``"abc,adc->abd"``: the same contraction, whatever the letters."""
    names: dict[str, str] = {}
    out = []
    for ch in spec.replace(" ", ""):
        if ch.isalpha():
            ch = names.setdefault(ch, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(names) % 52])
        out.append(ch)
    return "".join(out)


class _Facts:
    """What the whole file says about its names."""

    def __init__(self, tree: ast.Module):
        self.aliases: dict[str, str] = {}    # bound by an import -> the dotted name
        self.defined: set[str] = set()       # functions and classes of the file
        self.globals: set[str] = set()       # assigned at module level, or declared global
        self.attributes: set[str] = set()    # attribute names the file assigns (self.cache = ...), its methods
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.aliases[top] = top
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    if a.name != "*":
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}" if node.module else a.name
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.defined.add(node.name)
                if isinstance(node, ast.ClassDef):  # its methods are called as attributes
                    self.attributes |= {m.name for m in node.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                                        and not m.name.startswith("__")}
            elif isinstance(node, ast.Global):
                self.globals.update(node.names)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                self.attributes.add(node.attr)
        for stmt in tree.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
                for node in ast.walk(stmt):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        self.globals.add(node.id)


def _is_nothing(stmt: ast.stmt) -> bool:
    """A statement whose removal changes nothing a copier would keep."""
    if isinstance(stmt, (ast.Pass, ast.Assert, ast.Import, ast.ImportFrom)):
        return True
    if isinstance(stmt, ast.Expr):
        v = stmt.value
        return (isinstance(v, (ast.Constant, ast.Name, ast.Attribute))
                or (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "print"))
    return False


class _Simplify(ast.NodeTransformer):
    """Step 1 but the names: drop what does nothing, one spelling for each operation."""

    def __init__(self, facts: _Facts):
        self.facts = facts
        self.modules = ({v.split(".")[0] for v in facts.aliases.values()} | {"np", "numpy", "math"}) - facts.globals

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, [s for s in stmts if not _is_nothing(s)])
        return node

    def visit_If(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant):
            return node.body if node.test.value else node.orelse
        return node

    def visit_While(self, node):
        self.generic_visit(node)
        if isinstance(node.test, ast.Constant) and not node.test.value:
            return node.orelse
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        load = copy.deepcopy(node.target)
        load.ctx = ast.Load()
        return ast.Assign(targets=[node.target], value=ast.BinOp(load, node.op, node.value), lineno=node.lineno)

    def visit_Name(self, node):
        if node.id in self.facts.aliases and node.id not in self.facts.globals:
            return ast.Name(id=self.facts.aliases[node.id], ctx=node.ctx)
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, (str, bytes)) and not getattr(node, "einsum", False):
            return ast.Constant(value="S")
        if type(node.value) is int:  # 0 and 0.0, 1 and 1.0 alike
            return ast.Constant(value=float(node.value))
        return node

    def visit_JoinedStr(self, node):  # an f-string: a message
        return ast.Constant(value="S")

    def _module_call(self, func) -> bool:
        """``numpy.sum``, ``math.exp``...: a function of an imported module, not a method."""
        while isinstance(func, ast.Attribute):
            func = func.value
        return isinstance(func, ast.Name) and func.id.split(".")[0] in self.modules

    def visit_Call(self, node):
        name = _dotted(node.func) or ""
        head, _, tail = name.partition(".")
        resolved = self.facts.aliases.get(head, head) + ("." + tail if tail else "")
        if (resolved.endswith("einsum") and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            node.args[0] = ast.Constant(value=_einsum_spec(node.args[0].value))
            node.args[0].einsum = True
        self.generic_visit(node)
        func = node.func
        resolved = _dotted(func)
        if resolved in _MATMUL and len(node.args) == 2 and not node.keywords:
            return ast.BinOp(node.args[0], ast.MatMult(), node.args[1])
        if isinstance(func, ast.Attribute) and not self._module_call(func):
            if func.attr == "dot" and len(node.args) == 1 and not node.keywords:
                return ast.BinOp(func.value, ast.MatMult(), node.args[0])
            if func.attr in _FUNCTION_FORM:
                node = ast.Call(func=ast.Attribute(value=ast.Name(id="numpy", ctx=ast.Load()), attr=func.attr,
                                                   ctx=ast.Load()),
                                args=[func.value] + node.args, keywords=node.keywords)
                resolved = "numpy." + func.attr
        if resolved in ("numpy.reshape", "numpy.transpose") and len(node.args) == 2 \
                and isinstance(node.args[1], (ast.Tuple, ast.List)):  # x.reshape(a, b) is np.reshape(x, (a, b))
            node.args = [node.args[0]] + node.args[1].elts
        if resolved and resolved.startswith("numpy.") and resolved[6:] in _REDUCTIONS and len(node.args) == 2:
            node.keywords.append(ast.keyword(arg="axis", value=node.args.pop()))
        if isinstance(node.func, ast.Name) and node.func.id in self.facts.defined:
            for kw in node.keywords:
                if kw.arg:
                    kw.arg = "k"
        node.keywords.sort(key=lambda kw: kw.arg or "")
        return node

    def visit_Attribute(self, node):
        self.generic_visit(node)
        if node.attr in self.facts.attributes:
            node.attr = "a"
        return node


def _drop_dead_stores(fn) -> None:
    """Remove the assignments to plain names that nothing in ``fn`` reads (until none is left)."""
    while True:
        read, blocks = set(), []
        for node in ast.walk(fn):
            if isinstance(node, ast.Name):
                if not isinstance(node.ctx, ast.Store):
                    read.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.For, ast.AsyncFor, ast.While, ast.If,
                                   ast.With, ast.AsyncWith, ast.Try, _TRY_STAR, ast.ExceptHandler, ast.ClassDef)):
                blocks.append(node)
        removed = False
        for node in blocks:
            for field in ("body", "orelse", "finalbody"):
                stmts = getattr(node, field, None)
                if stmts:
                    kept = [s for s in stmts if not _dead(s, read)]
                    if len(kept) < len(stmts):
                        setattr(node, field, kept)
                        removed = True
        if not removed:
            return


def _dead(stmt, read: set[str]) -> bool:
    if not isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        return False
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    names = []
    for t in targets:
        for n in ast.walk(t):
            if not isinstance(n, (ast.Name, ast.Tuple, ast.List, ast.Store, ast.Starred)):
                return False  # a subscript or an attribute: a store into something read elsewhere
            if isinstance(n, ast.Name):
                names.append(n.id)
    return bool(names) and not any(n in read for n in names)


def _rename(fn, facts: _Facts) -> None:
    """Local names -> v0, v1... by order of first use within each statement."""
    local = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Name):
            if not isinstance(n.ctx, ast.Load):
                local.add(n.id)
        elif isinstance(n, ast.arg):
            local.add(n.arg)
    local -= facts.globals
    order: dict[str, str] = {}

    def walk(node):
        nonlocal order
        if isinstance(node, ast.stmt):
            order = {}
        if isinstance(node, ast.arg) and node.arg in local:
            node.arg, node.annotation = order.setdefault(node.arg, f"v{len(order)}"), None
        elif isinstance(node, ast.Name):
            if node.id in local:
                node.id = order.setdefault(node.id, f"v{len(order)}")
            elif node.id in facts.defined:
                node.id = "F"
            elif node.id in facts.globals:
                node.id = "G"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.name, node.returns, node.decorator_list = "F", None, []
        elif isinstance(node, ast.ClassDef):
            node.name = "C"
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(fn)


def _unit_nodes(tree: ast.Module) -> list:
    """Each function, each method, and (as one module) everything else."""
    found, rest = [], []
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            methods = [s for s in stmt.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
            found += methods
            stmt.body = [s for s in stmt.body if s not in methods]
            rest.append(stmt)
        else:
            rest.append(stmt)
    if rest:
        found.append(ast.Module(body=rest, type_ignores=[]))
    return found


def _units(tree: ast.Module) -> list[list[str]]:
    facts = _Facts(tree)
    tree = _Simplify(facts).visit(tree)
    out = []
    for node in _unit_nodes(tree):
        if not isinstance(node, ast.Module):
            _drop_dead_stores(node)
        _rename(node, facts)
        tokens = text_tokens(ast.unparse(node))
        if tokens:
            out.append(tokens)
    return out


# ---------------------------------------------------------------- tokens and fingerprints
