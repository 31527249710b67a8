"""Mutation score of a problem's hidden cases: how many one-line bugs of the reference they reject.

Each mutant is the reference solution with one AST node changed: an arithmetic,
comparison or boolean operator swapped (``+``/``-``, ``*``/``/``, ``<``/``<=``, ``&``/``|``),
an operand dropped (``a - b`` -> ``a``), a constant moved (``1`` -> ``0``, ``2``; ``1e-5`` ->
``0``), a keyword or the last positional argument of a call omitted (``axis=-1``,
``keepdims=True``, ``base``), an axis changed, a NumPy function swapped for its sibling
(``mean``/``sum``, ``max``/``min``, ``cos``/``sin``, ``tril``/``triu``), a unary minus
dropped, a statement deleted, or a variable read as another variable of the same
function. A mutant is *killed* when some hidden case rejects it (wrong answer, an
exception on valid input, no ``ValueError`` where one is due); the survivors are
listed with their line so that a person can tell an equivalent mutant (the same
function) from a hole in the cases.

Mutants run in this process (they are the project's own code, not a candidate's),
each under a 10 s alarm, on the cases ``mhajudge`` builds with no secret.

    .venv/bin/python benchmarks/mutation_score.py [PROBLEM ...] [--show-survivors]
"""

from __future__ import annotations

import argparse
import ast
import copy
import signal
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build, run_reference  # noqa: E402
from mhajudge.judge import verdict_for  # noqa: E402
from mhajudge.sandbox.programs import exception_code  # noqa: E402
from mhajudge.sandbox.replies import RunResult  # noqa: E402

PROBLEMS = ["norm-backward", "cross-entropy", "sliding-window-attention", "rope-kv-cache"]

BINOPS = {ast.Add: [ast.Sub, ast.Mult], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.Add], ast.Div: [ast.Mult],
          ast.Pow: [ast.Mult], ast.MatMult: [ast.Mult], ast.BitAnd: [ast.BitOr], ast.BitOr: [ast.BitAnd],
          ast.FloorDiv: [ast.Div], ast.Mod: [ast.FloorDiv]}
CMPOPS = {ast.Lt: [ast.LtE, ast.Gt], ast.LtE: [ast.Lt, ast.GtE], ast.Gt: [ast.GtE, ast.Lt],
          ast.GtE: [ast.Gt, ast.LtE], ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Is: [ast.IsNot],
          ast.IsNot: [ast.Is]}
SIBLINGS = {"mean": ["sum"], "sum": ["mean"], "max": ["min"], "min": ["max"], "cos": ["sin"], "sin": ["cos"],
            "tril": ["triu"], "triu": ["tril"], "exp": ["log"], "log": ["exp"], "sqrt": ["abs"],
            "zeros_like": ["ones_like"], "argmax": ["argmin"]}


def _constants(value):
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1] + ([0] if value not in (0, 1, -1) else [])
    if isinstance(value, float):
        out = [0.0] if value != 0 else [1.0]
        return out + [value * 2, -value] if value != 0 else out
    return []


def mutation_sites(tree):
    """Every (description, function that mutates a copy of the tree in place) of one node."""
    sites = []
    funcs = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)]
    for func in funcs:
        local = sorted({a.arg for a in func.args.args}
                       | {n.id for n in ast.walk(func) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)})
        in_messages = {id(n) for j in ast.walk(func) if isinstance(j, ast.JoinedStr) for n in ast.walk(j)}
        for node in ast.walk(func):
            line = getattr(node, "lineno", func.lineno)
            if id(node) in in_messages:                # the text of an error message
                continue
            if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
                for op in BINOPS[type(node.op)]:
                    sites.append((line, f"{type(node.op).__name__} -> {op.__name__}", node, ("op", op())))
                sites.append((line, "drop right operand", node, ("replace", node.left)))
                sites.append((line, "drop left operand", node, ("replace", node.right)))
            elif isinstance(node, ast.AugAssign) and type(node.op) in BINOPS:
                for op in BINOPS[type(node.op)]:
                    sites.append((line, f"{type(node.op).__name__}= -> {op.__name__}=", node, ("op", op())))
            elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in CMPOPS:
                for op in CMPOPS[type(node.ops[0])]:
                    sites.append((line, f"{type(node.ops[0]).__name__} -> {op.__name__}", node, ("ops", [op()])))
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                sites.append((line, "drop unary minus", node, ("replace", node.operand)))
            elif isinstance(node, ast.Constant) and not isinstance(node.value, str):
                for v in _constants(node.value):
                    sites.append((line, f"{node.value!r} -> {v!r}", node, ("value", v)))
            elif isinstance(node, ast.Call):
                for i, kw in enumerate(node.keywords):
                    sites.append((line, f"omit keyword {kw.arg}=", node, ("drop_kw", i)))
                if len(node.args) > 1:
                    sites.append((line, "omit the last positional argument", node, ("drop_arg", None)))
            elif isinstance(node, ast.Attribute) and node.attr in SIBLINGS:
                for s in SIBLINGS[node.attr]:
                    sites.append((line, f".{node.attr} -> .{s}", node, ("attr", s)))
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in local:
                for other in local:
                    if other != node.id:
                        sites.append((line, f"{node.id} -> {other}", node, ("id", other)))
        for node in ast.walk(func):
            for field in ("body", "orelse"):
                block = getattr(node, field, None)
                if isinstance(block, list):
                    for i, stmt in enumerate(block):
                        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.Return)) \
                                and not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                            sites.append((stmt.lineno, "delete the statement", node, ("delete", (field, i))))
    return sites


def apply(tree, site):
    """A mutated copy of ``tree``: the node at the same walk index gets the change."""
    line, what, target, (kind, value) = site
    index = next(i for i, n in enumerate(ast.walk(tree)) if n is target)
    new = copy.deepcopy(tree)
    node = next(n for i, n in enumerate(ast.walk(new)) if i == index)
    if kind == "replace":
        replacement = copy.deepcopy(value)
        for parent in ast.walk(new):
            for field, old in ast.iter_fields(parent):
                if old is node:
                    setattr(parent, field, replacement)
                elif isinstance(old, list):
                    for j, item in enumerate(old):
                        if item is node:
                            old[j] = replacement
    elif kind == "op":
        node.op = value
    elif kind == "ops":
        node.ops = value
    elif kind == "value":
        node.value = value
    elif kind == "drop_kw":
        del node.keywords[value]
    elif kind == "drop_arg":
        node.args.pop()
    elif kind == "attr":
        node.attr = value
    elif kind == "id":
        node.id = value
    elif kind == "delete":
        field, i = value
        getattr(node, field)[i] = ast.Pass()
    return ast.fix_missing_locations(new)


class _Alarm(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Alarm()


def killed_by(module, cases):
    """The first hidden case that rejects the mutant, or None."""
    for case in cases:
        fn = getattr(module, case.fn, None)
        if fn is None:
            return case.name
        try:
            answer = run_reference(fn, case.program, case.inputs)
            run = RunResult("ok", answer=answer)
        except _Alarm:
            raise
        except Exception as exc:  # noqa: BLE001 - a crashing mutant is rejected (or not) as a candidate is
            run = RunResult("raised", exception=exception_code(exc), message=str(exc))
        if verdict_for(case, run)[0] != "accepted":
            return case.name
    return None


def score(problem_id: str, show: bool):
    import numpy as np

    problem = bank.load_problem(problem_id)
    path = bank.reference_dir() / f"{problem.reference}.py"
    source = path.read_text()
    tree = ast.parse(source)
    cases = [c for c in build(problem) if c.group == "hidden"]
    sites = mutation_sites(tree)
    survivors, invalid, start = [], 0, time.perf_counter()
    signal.signal(signal.SIGALRM, _on_alarm)
    for site in sites:
        try:
            code = compile(apply(tree, site), str(path), "exec")
        except (SyntaxError, ValueError, TypeError):
            invalid += 1
            continue
        module = types.ModuleType(f"mutant_{problem.reference}")
        try:
            signal.alarm(10)
            with np.errstate(all="ignore"):
                exec(code, module.__dict__)
                hit = killed_by(module, cases)
        except _Alarm:
            hit = "(timed out)"
        except Exception:  # noqa: BLE001 - a mutant that does not even import is killed
            hit = "(does not import)"
        finally:
            signal.alarm(0)
        if hit is None:
            survivors.append(site)
    total = len(sites) - invalid
    lines = source.splitlines()
    print(f"{problem_id:<26}{len(cases):>6} hidden cases{total:>6} mutants{total - len(survivors):>6} killed"
          f"{len(survivors):>5} survive   score {(total - len(survivors)) / max(total, 1):.1%}"
          f"   ({time.perf_counter() - start:.0f} s)")
    if show:
        for line, what, _, _ in survivors:
            print(f"    line {line:>3}: {what:<34} | {lines[line - 1].strip()[:80]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problems", nargs="*", default=PROBLEMS)
    parser.add_argument("--show-survivors", action="store_true")
    args = parser.parse_args()
    for pid in args.problems:
        score(pid, args.show_survivors)


if __name__ == "__main__":
    main()
