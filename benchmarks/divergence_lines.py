"""How often ``divergence.line`` is the line a one-line bug is on.

For each problem whose cases are plain calls, every reference solution is mutated one
line at a time (one operator swapped: + and -, * and /, @ and *; one number changed: an
axis -1 to -2, a constant c to c + 1), each mutant is judged, and for each one that gets
a wrong answer the judge's divergence is compared with the mutated line. Mutants that
crash, time out or still pass say nothing about the divergence and are counted apart.

    PYTHONPATH=. python benchmarks/divergence_lines.py            # every problem
    PYTHONPATH=. python benchmarks/divergence_lines.py sdpa -v    # one problem, each mutant
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
from pathlib import Path

SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.MatMult: ast.Mult,
         ast.Pow: ast.Mult}


def mutants(source: str):
    """(line, new source, what) for each one-line mutation of the functions' bodies."""
    lines = source.splitlines()
    tree = ast.parse(source)
    for fn in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
        for stmt in fn.body:
            for node in ast.walk(stmt):
                if getattr(node, "lineno", None) != getattr(node, "end_lineno", -1):
                    continue                                    # single-line nodes only
                new = None
                if isinstance(node, ast.BinOp) and type(node.op) in SWAPS:
                    new = ast.BinOp(node.left, SWAPS[type(node.op)](), node.right)
                    what = f"{type(node.op).__name__} -> {SWAPS[type(node.op)].__name__}"
                elif (isinstance(node, ast.Constant) and isinstance(node.value, (int, float))
                      and not isinstance(node.value, bool)):
                    new = ast.Constant(node.value + 1)
                    what = f"{node.value!r} -> {node.value + 1!r}"
                elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
                        and isinstance(node.operand, ast.Constant) and node.operand.value == 1:
                    new = ast.UnaryOp(ast.USub(), ast.Constant(2))
                    what = "-1 -> -2 (an axis)"
                if new is None:
                    continue
                i = node.lineno - 1
                line = lines[i]
                text = ast.unparse(new)
                if isinstance(node, ast.BinOp):
                    text = f"({text})"
                changed = line[:node.col_offset] + text + line[node.end_col_offset:]
                if changed == line:
                    continue
                yield node.lineno, "\n".join(lines[:i] + [changed] + lines[i + 1:]) + "\n", what


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("problems", nargs="*")
    ap.add_argument("--most", type=int, default=30, help="mutants per problem at most (evenly spread)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    from mhajudge import bank
    from mhajudge.cases import build
    from mhajudge.divergence import traceable
    from mhajudge.judge import judge_file

    totals = {"hit": 0, "wrong": 0, "other": 0, "none": 0}
    for pid in args.problems or bank.problem_ids():
        problem = bank.load_problem(pid)
        cases = [c for c in build(problem) if traceable(c)]
        if not cases:
            continue
        ref = bank.reference_dir() / f"{problem.reference}.py"
        found = list(mutants(ref.read_text()))
        step = max(1, len(found) // args.most)
        counts = {"hit": 0, "wrong": 0, "other": 0, "none": 0}
        with tempfile.TemporaryDirectory() as tmp:
            for k, (line, text, what) in enumerate(found[::step][:args.most]):
                path = Path(tmp) / f"mutant_{k}.py"
                path.write_text(text)
                report = judge_file(path, pid, problem=problem, cases=cases, find_divergence=True, isolate=False)
                if report.verdict != "wrong-answer":
                    counts["other"] += 1
                    continue
                d = report.divergence
                key = "hit" if d and d["line"] == line else "wrong" if d else "none"
                counts[key] += 1
                if args.verbose or key != "hit":
                    print(f"  {key:5s} {pid} line {line} ({what}): {d['message'] if d else 'no divergence'}")
        judged = counts["hit"] + counts["wrong"] + counts["none"]
        if judged:
            print(f"{pid:18s} {counts['hit']}/{judged} mutants with a wrong answer: divergence on the changed line"
                  f" ({counts['wrong']} elsewhere, {counts['none']} none; {counts['other']} mutants crashed or passed)")
        for key in totals:
            totals[key] += counts[key]
    judged = totals["hit"] + totals["wrong"] + totals["none"]
    print(f"total: {totals['hit']}/{judged} = {100 * totals['hit'] / max(judged, 1):.0f}% of the one-line mutants "
          f"with a wrong answer have divergence.line on the changed line "
          f"({totals['wrong']} on another line, {totals['none']} without a divergence)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
