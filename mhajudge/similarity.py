"""Near-duplicate submissions: the pairs of a graded folder that share most of their code.

    from mhajudge.similarity import pairs
    pairs({"alice.py": a, "bob.py": b, "carol.py": c}, starter=starter_source(problem))
    # [("alice.py", "bob.py", 0.96)]     the pairs at or above the threshold, best first

The method is MOSS's (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for
document fingerprinting", SIGMOD 2003) applied to a normalised program rather than to
its text, so that what a copier changes cheaply changes nothing:

1. **Normalise** (:func:`_units`). The file is parsed with :mod:`ast`. Docstrings and
   every statement that does nothing are dropped (a bare constant, name or string,
   ``pass``, ``assert``, a ``print(...)`` call, ``if False:`` bodies, an assignment to a
   name nothing reads); imports are dropped and their aliases resolved (``np.exp``,
   ``numpy.exp`` and ``from numpy import exp; exp`` are all ``numpy.exp``);
   ``numpy.matmul(a, b)``, ``numpy.dot(a, b)`` and ``a.dot(b)`` are ``a @ b``;
   ``x.sum(-1)`` and the other array methods NumPy also has as functions are
   ``numpy.sum(x, axis=-1)``; ``x += y`` is ``x = x + y``; keyword arguments are
   sorted; ``1`` is ``1.0``; a string is one placeholder, but an einsum spec keeps its
   shape with its letters renamed in order (``"bqd,bkd->bqk"`` is ``"abc,adc->abd"``).
   **Names**: the local names of a function (arguments, assigned names, loop and
   comprehension variables) are renamed ``v0``, ``v1``... by order of first use
   *within each statement*; the file's own functions, classes, globals and assigned
   attributes (and methods) become one placeholder each; what the program uses from
   outside (``numpy.exp``, ``.shape``, ``range``, ``float``) is kept: that is what
   carries its meaning. Numbering names through the whole function instead makes one
   swapped or inserted statement renumber everything after it (copies with two
   statements swapped then scored 0.51 against their original, against 0.87 now);
   the price is that ``w @ v`` and ``w @ k`` look alike, so a copy with a one-token
   bug is still a copy.
2. **Tokenise.** Each function (each method of a class; the module-level statements
   together) is unparsed on its own and cut into tokens (``{`` ``}`` for indentation,
   ``;`` at line ends), so the order of the functions and the layout cannot be seen.
3. **Fingerprint.** The hashes of every ``K`` consecutive tokens of a unit are winnowed
   (the smallest of every ``WINDOW`` consecutive hashes is kept): any shared run of
   ``K + WINDOW - 1`` tokens is seen, with about half the hashes. A file is the set of
   its units' fingerprints. The hashes are CRC-32s of the tokens, combined by hashing
   tuples of ints: the same in every process (Python salts the hashes of strings).
4. **Subtract the starter.** The fingerprints of ``mhajudge new``'s starter file
   (header, signatures, docstrings, ``raise NotImplementedError``, any code it gives)
   are removed from every set: what everybody got from the starter never makes two
   submissions similar, whether they kept it, deleted it or wrote around it.
5. **Score** a pair by the Dice coefficient of its two sets,
   ``2 |A & B| / (|A| + |B|)`` in [0, 1], and report it when the score is at least the
   threshold and the two share at least ``MIN_SHARED`` fingerprints (two nearly empty
   submissions are not evidence of anything).

A file that does not parse has the lines the parser rejects replaced (by ``pass``, or
by ``if True:`` when the next line is indented deeper), up to ``MAX_REPAIRS`` times; if
it still does not parse its raw tokens are used, numbered and indented like the
parsed ones as far as text allows, so two copies of one broken file still match (and
a broken copy of a working file mostly does). Only the first ``MAX_CHARS`` characters
of a source are compared, which bounds the work a hostile file can cause.

**Measured** by ``benchmarks/similarity_precision_recall.py``: 52 independent solutions
of the 14 problems in different styles (loops, einsum, matmul, helpers, a class,
per-item ``np.dot``, log-sum-exp, online softmax...) and 10 disguised copies of each
(one per disguise: rename everything, reorder the functions, new comments and
docstrings, reformat, dead code and a dead helper, ``@`` <-> ``np.matmul``, small edits
and two statements swapped; three with all of the first six at once). Every copy
scores at least 0.80 against its original and its sibling copies, every pair of
independent solutions at most 0.49 (two online softmaxes of flash-attention, two
loops over prefixes of causal attention: the algorithm leaves little choice), so the
default threshold, 0.65, sits in the middle of the gap: precision 1.0 and recall 1.0
on 2,860 pairs of copies and 9,680 independent pairs. ``K``, ``WINDOW`` and the
per-statement numbering were chosen on that corpus (K from 6 to 20, windows from 1 to
6, three ways of numbering names); the three solutions of mha-qkv, flash-attention and
positional were added after, and moved nothing but the highest independent score
(0.45 to 0.49). 500 submissions take about 1.5 s on one core, nearly all of it
parsing: the comparisons are intersections of sets of a hundred or so integers.

**Why not a library.** *copydetect* (MIT, 0.5.0, 2024) is the same winnowing with a
boilerplate option, but over pygments tokens with every name, attribute and function
replaced by one letter (``np.exp(x)`` and ``np.sqrt(y)`` are the same ``V.V(V)``: on
short NumPy programs that all look alike that makes independent solutions look
copied), character k-grams of that text, Python's salted ``hash()`` of strings
(winnowing picks other fingerprints in every run, so scores change between runs),
files on disk, and matplotlib, jinja2, pygments and tqdm as dependencies, for an HTML
report we do not want. Run on the same corpus (``--copydetect``; its defaults, the
starter as boilerplate) its scores overlap: the highest independent pair scores 0.65,
the copies with every disguise score 0.68 on average and 0.33 at worst against their
original, some pairs of copies 0; at its default threshold (0.33) precision is 0.89
and recall 0.99, at 0.5 0.99 and 0.94; no threshold gets both. *pycode_similar* (MIT,
1.4, last released 2020) diffs the ``ast.dump`` of each pair of functions with difflib
after erasing every name and attribute (the same loss, worse), compares one reference
against the others rather than all pairs, and knows nothing of a starter. Dolos and
JPlag are a Node and a Java program. What is needed is a few hundred lines of the
standard library, deterministic, with a normaliser that knows NumPy: no runtime
dependency is added.
"""

from __future__ import annotations

import ast
import builtins
import copy
import keyword
import re
import zlib
from itertools import combinations

K = 8              # tokens per k-gram
WINDOW = 3         # winnowing window, in k-grams
MIN_SHARED = 6     # fingerprints a pair must share to be reported at all
THRESHOLD = 0.65   # the default --similarity-threshold (see the module docstring)
MAX_REPAIRS = 10   # lines replaced, one at a time, to make a broken file parse
MAX_CHARS = 64_000  # of a source compared (a solution is a few thousand; bounds the work on hostile ones)

_BUILTINS = frozenset(dir(builtins))
_TRY_STAR = getattr(ast, "TryStar", ast.Try)  # Python 3.11+
_MATMUL = {"numpy.matmul", "numpy.dot", "operator.matmul", "torch.matmul"}
# Array methods NumPy also has as functions: ``x.sum(-1)`` is ``numpy.sum(x, axis=-1)``.
_REDUCTIONS = {"sum", "max", "min", "mean", "prod", "std", "var", "argmax", "argmin", "cumsum", "any", "all"}
_FUNCTION_FORM = _REDUCTIONS | {"transpose", "swapaxes", "reshape", "squeeze", "clip", "round"}


def pairs(sources: dict[str, str], starter: str = "", threshold: float = THRESHOLD) -> list[tuple[str, str, float]]:
    """The pairs of ``sources`` (name -> source text) whose score is at least ``threshold``:
    ``(a, b, score)`` with ``a < b``, the highest score first (then by names)."""
    drop = fingerprints(starter) if starter else frozenset()
    prints = {name: fingerprints(text) - drop for name, text in sources.items()}
    found = []
    for a, b in combinations(sorted(prints), 2):
        fa, fb = prints[a], prints[b]
        if not fa or not fb:
            continue
        # Dice >= t needs min/max size >= t / (2 - t): skip the pairs that cannot reach it.
        small, large = sorted((len(fa), len(fb)))
        if small * (2 - threshold) < threshold * large:
            continue
        s = _dice(fa, fb)
        if s >= threshold and s > 0:
            found.append((a, b, round(s, 3)))
    return sorted(found, key=lambda p: (-p[2], p[0], p[1]))


def score(a: str, b: str, starter: str = "") -> float:
    """The similarity of two sources, whatever the threshold (0 when they share too little)."""
    drop = fingerprints(starter) if starter else frozenset()
    return round(_dice(fingerprints(a) - drop, fingerprints(b) - drop), 3)


def _dice(fa: frozenset, fb: frozenset) -> float:
    shared = len(fa & fb)
    return 0.0 if shared < MIN_SHARED else 2 * shared / (len(fa) + len(fb))


def fingerprints(source: str) -> frozenset[int]:
    """The winnowed k-gram hashes of one source's normalised units."""
    found = set()
    for unit in units(source):
        found |= _winnow(_kgrams([_token_id(t) for t in unit]))
    return frozenset(found)


def units(source: str) -> list[list[str]]:
    """The normalised token lists of a source: one per function or method, one for the
    rest of the module; raw tokens when it cannot be parsed even after repair."""
    if len(source) > MAX_CHARS:
        source = source[:source.rfind("\n", 0, MAX_CHARS) + 1 or MAX_CHARS]
    tree = _parse(source)
    if tree is None:
        return _raw_units(source)
    try:
        return _units(tree)
    except (RecursionError, MemoryError, ValueError, TypeError, AttributeError):
        return _raw_units(source)


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
        tokens = _tokens(ast.unparse(node))
        if tokens:
            out.append(tokens)
    return out


# ---------------------------------------------------------------- tokens and fingerprints

_TOKEN = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\w+|\*\*|//|->|[<>=!]=|\S""")


def _tokens(text: str) -> list[str]:
    """The tokens of an unparsed unit, with ``{`` ``}`` for indentation and ``;`` at line ends."""
    out, depth = [], 0
    for line in text.split("\n"):
        body = line.lstrip(" ")
        if not body:
            continue
        level = (len(line) - len(body)) // 4
        out += ["{"] * (level - depth) + ["}"] * (depth - level)
        depth = level
        out += _TOKEN.findall(body)
        out.append(";")
    return out


_RAW = re.compile(r"""#[^\n]*|(?:[rRbBuUfF]{0,2})(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
                  r"""|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\w+|\*\*|//|->|[<>=!]=|\n|[^\s]""")
_KEEP = frozenset(keyword.kwlist) | _BUILTINS | {"np", "numpy", "math", "torch"}


def _raw_units(source: str) -> list[list[str]]:
    """Tokens of a source that does not parse, as close to the parsed ones as text
    allows: split where a top-level ``def`` or ``class`` starts, comments dropped,
    strings one placeholder, ``np`` is ``numpy``, names numbered within each line."""
    out = []
    for chunk in re.split(r"\n(?=(?:def|class|async\s+def)\b)", source):
        order: dict[str, str] = {}
        tokens, after_dot, depth, indents, line_start = [], False, 0, [0], 0
        for m in _RAW.finditer(chunk):
            tok = m.group()
            if tok.startswith("#"):
                continue
            if tok == "\n":
                if depth <= 0 and tokens and tokens[-1] != ";":
                    tokens.append(";")
                    order = {}
                line_start = m.end()
                continue
            if depth <= 0 and (not tokens or tokens[-1] == ";"):  # a new statement: its indentation
                col = m.start() - line_start
                if col > indents[-1]:
                    indents.append(col)
                    tokens.append("{")
                while len(indents) > 1 and col < indents[-1]:
                    indents.pop()
                    tokens.append("}")
            if tok[-1] in "'\"":
                tok = "'S'"
            elif tokens and tokens[-1] in ("def", "class"):
                tok = "F" if tokens[-1] == "def" else "C"
            elif (tok[0].isalpha() or tok[0] == "_") and not after_dot and tok not in _KEEP:
                tok = order.setdefault(tok, f"v{len(order)}")
            elif tok == "np":
                tok = "numpy"
            elif tok[0].isdigit():
                tok = _number(tok)
            depth += (tok in "([{") - (tok in ")]}")
            after_dot = tok == "."
            tokens.append(tok)
        if tokens:
            out.append(tokens)
    return out


def _number(tok: str) -> str:
    """A number as the parsed path prints it (``1`` and ``1.0`` alike)."""
    try:
        return repr(float(tok))
    except ValueError:
        return tok


_IDS: dict[str, int] = {}


def _token_id(token: str) -> int:
    tid = _IDS.get(token)
    if tid is None:
        tid = zlib.crc32(token.encode("utf-8", "surrogatepass"))
        if len(_IDS) < 100_000:
            _IDS[token] = tid
    return tid


def _kgrams(ids: list[int]) -> list[int]:
    """The hash of every K consecutive tokens (one hash for a unit shorter than K).
    Hashes of tuples of ints are the same in every process (only str hashes are salted)."""
    if len(ids) <= K:
        return [hash(tuple(ids))]
    return [hash(tuple(ids[i:i + K])) for i in range(len(ids) - K + 1)]


def _winnow(hashes: list[int]) -> set[int]:
    """The rightmost smallest hash of every WINDOW consecutive ones (robust winnowing)."""
    if len(hashes) <= WINDOW:
        return set(hashes)
    kept = set()
    for i in range(len(hashes) - WINDOW + 1):
        window = hashes[i:i + WINDOW]
        kept.add(min(window))
    return kept
