"""Precision and recall of `grade --similarity` (mhajudge.similarity) on a labelled corpus.

    .venv/bin/python benchmarks/similarity_precision_recall.py [--threshold T] [--copies 3] [--scale 500]

The corpus, per problem (only submissions to one problem are ever compared):

* **independent** solutions: every ``correct_*`` file under ``reference/solutions/<problem>/``
  (loops, einsum, repeat, tiled...) and the ones under ``tests/similarity/independent/``
  written in other styles again (helper functions, a class, ``np.dot`` per batch item,
  log-sum-exp, ``apply_along_axis``, prefix loops, head lists...); all are accepted
  by the judge. The wrong-answer files of ``reference/solutions`` are left out of this
  set: most are one-line edits of one common base (``no_scale.py`` is ``times_keys.py``
  with one token changed), so they are copies of each other by construction; they are
  reported on their own at the end.
* **disguised copies** of every independent solution, made by :func:`disguise`: one
  for each single disguise (rename every variable, parameter, helper and alias;
  reorder the functions; new comments and docstrings; reformat; insert dead code and
  useless statements; swap ``a @ b`` and ``np.matmul(a, b)``) and ``--copies`` with all
  of them at once, each with its own seed.

A pair is a true copy when both come from the same independent solution (an original
and its copy, or two copies); every other pair of a problem is independent. Precision
is the share of the reported pairs that are true copies; recall the share of true
copies reported. ``--scale N`` also times ``pairs`` on N submissions.

``--tune`` shows the gap between copies and independent pairs for other ``K`` and
``WINDOW``. ``--copydetect`` scores the same corpus with copydetect (its defaults: k = 25
characters of its filtered text, window 6, the starter as boilerplate, the score the
larger of its two overlap fractions), for comparison; it must be installed next to
mhajudge, e.g. in a throwaway venv: ``pip install -e . copydetect``.
"""

from __future__ import annotations

import argparse
import ast
import random
import re
import sys
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mhajudge import bank, similarity  # noqa: E402
from mhajudge.starter import starter_source  # noqa: E402

SOLUTIONS = ROOT / "reference" / "solutions"
INDEPENDENT = ROOT / "tests" / "similarity" / "independent"

# ---------------------------------------------------------------- the corpus


def independent() -> dict[str, dict[str, str]]:
    """problem -> {name: source} of the independent solutions."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(SOLUTIONS.glob("*/correct_*.py")) + sorted(INDEPENDENT.glob("*/*.py")):
        found.setdefault(path.parent.name, {})[f"{path.parent.parent.name}/{path.name}"] = path.read_text()
    return found


def variants() -> dict[str, dict[str, str]]:
    """problem -> {name: source} of the wrong-answer files (one-line edits of a common base)."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(SOLUTIONS.glob("*/*.py")):
        if not path.name.startswith("correct_"):
            found.setdefault(path.parent.name, {})[path.name] = path.read_text()
    return found


# ---------------------------------------------------------------- disguises
# Each takes a source and a random.Random and returns a source that still parses (and
# still solves the problem: the names the judge calls and keyword defaults are kept).

_WORDS = ("alpha beta gamma delta acc tmp buf val res data item part chunk piece node elem blob "
          "left right top low high first second third foo bar baz qux mat arr vec tens block "
          "scratch holder thing stuff out2 res2 cur prev nxt step unit span seg").split()


def _entry_names(tree) -> set[str]:
    """The top-level functions the judge may call: those named in the starter of some problem."""
    names = set()
    for pid in bank.problem_ids():
        names |= {ep.name for ep in bank.load_problem(pid).entry_points}
    return names & {s.name for s in tree.body if isinstance(s, ast.FunctionDef)}


def _fresh(rng, taken: set[str]) -> str:
    while True:
        name = rng.choice(_WORDS) + rng.choice(("", "_", "")) + str(rng.randrange(100))
        if name not in taken:
            taken.add(name)
            return name


def _edit(source: str, edits: list[tuple[int, int, int, str]]) -> str:
    """Replace (line, start byte, end byte) spans by new text, ``line`` 1-based."""
    lines = [ln.encode() for ln in source.split("\n")]
    for line, start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        raw = lines[line - 1]
        lines[line - 1] = raw[:start] + new.encode() + raw[end:]
    return "\n".join(ln.decode() for ln in lines)


def rename(source: str, rng: random.Random) -> str:
    """Every variable, parameter, helper function, class, assigned attribute and import
    alias gets a new name; the entry points keep theirs and so do keyword-default
    parameters (the judge may pass them by name)."""
    tree = ast.parse(source)
    entry = _entry_names(tree)
    keep = entry | {"self", "cls", "_"}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in entry:
            a = node.args
            defaults = a.args[len(a.args) - len(a.defaults):] + [k for k, d in zip(a.kwonlyargs, a.kw_defaults) if d]
            keep |= {d.arg for d in defaults}
    bound, attrs = set(), set()
    methods = {m.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for m in c.body
               if isinstance(m, ast.FunctionDef) and not m.name.startswith("__")}
    attrs |= methods
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("__"):
            bound.add(node.name)
        elif isinstance(node, ast.alias) and node.asname:
            bound.add(node.asname)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) \
                and node.value.id == "self":
            attrs.add(node.attr)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | bound | attrs | {"np", "math", "numpy"}
    new = {name: _fresh(rng, taken) for name in sorted(bound - keep - methods)}
    new_attr = {name: _fresh(rng, taken) for name in sorted(attrs)}
    lines = source.split("\n")
    edits = []

    def after(node, pattern, name, to=None):
        line = lines[node.lineno - 1].encode()
        m = re.compile(pattern.encode() + re.escape(name.encode()) + rb"\b").search(line, node.col_offset)
        edits.append((node.lineno, m.end() - len(name.encode()), m.end(), (to or new)[name]))

    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in new:
            edits.append((node.lineno, node.col_offset, node.end_col_offset, new[node.id]))
        elif isinstance(node, ast.arg) and node.arg in new:
            edits.append((node.lineno, node.col_offset, node.col_offset + len(node.arg), new[node.arg]))
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in new:
            after(node, r"(?:def|class)\s+", node.name)
        elif isinstance(node, ast.FunctionDef) and node.name in methods:
            after(node, r"def\s+", node.name, new_attr)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname in new:
                    after(node, r"\bas\s+", a.asname)
        elif isinstance(node, ast.Attribute) and node.attr in new_attr and node.lineno == node.end_lineno:
            edits.append((node.end_lineno, node.end_col_offset - len(node.attr), node.end_col_offset,
                          new_attr[node.attr]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in new:
            for kw in node.keywords:  # a helper's parameter passed by name
                if kw.arg in new:
                    edits.append((kw.lineno, kw.col_offset, kw.col_offset + len(kw.arg), new[kw.arg]))
    out = _edit(source, edits)
    ast.parse(out)
    return out


def _segments(source: str, tree) -> list[tuple[int, int, ast.stmt]]:
    """(first line, last line) of every top-level statement, 0-based and inclusive,
    the comments and blank lines before it included."""
    spans, start = [], 0
    for stmt in tree.body:
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])]) - 1
        spans.append([first, stmt.end_lineno - 1, stmt])
    for i, span in enumerate(spans):
        span[0] = start if i else span[0]
        start = span[1] + 1
    return [tuple(s) for s in spans]


def reorder(source: str, rng: random.Random) -> str:
    """The functions and classes in another order (other statements stay where they are)."""
    tree = ast.parse(source)
    lines = source.split("\n")
    segs = _segments(source, tree)
    defs = [i for i, s in enumerate(segs) if isinstance(s[2], (ast.FunctionDef, ast.ClassDef))]
    order = defs[:]
    while len(defs) > 1 and order == defs:
        rng.shuffle(order)
    chunks = ["\n".join(lines[s[0]:s[1] + 1]).strip("\n") for s in segs]
    placed = list(chunks)
    for slot, src in zip(defs, order):
        placed[slot] = chunks[src]
    head = "\n".join(lines[:segs[0][0]]) if segs else ""
    out = (head + "\n" if head else "") + "\n\n\n".join(placed) + "\n"
    ast.parse(out)
    return out


_PHRASES = ("compute the scores", "normalise", "apply the mask here", "numerically stable", "TODO check shapes",
            "heads", "this is the tricky part", "scale by sqrt(d)", "sum over keys", "the output",
            "batch first", "see the lecture notes", "works for any batch shape", "loop over everything")


def recomment(source: str, rng: random.Random) -> str:
    """Every comment and docstring removed; new comments and docstrings added."""
    import io
    import tokenize

    tree = ast.parse(source)
    doc_lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)) and ast.get_docstring(node, clean=False):
            d = node.body[0]
            if len(node.body) > 1:
                doc_lines |= set(range(d.lineno - 1, d.end_lineno))
    lines = source.split("\n")
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col].rstrip()
    kept = [(i, ln) for i, ln in enumerate(lines) if i not in doc_lines]
    tree2 = ast.parse("\n".join(ln for _, ln in kept))
    out_lines = [ln for _, ln in kept]
    inserts = []
    for node in ast.walk(tree2):
        if isinstance(node, ast.FunctionDef):
            first = node.body[0]
            indent = " " * first.col_offset
            inserts.append((first.lineno - 1, f'{indent}"""{rng.choice(_PHRASES).capitalize()}."""'))
            for stmt in node.body:
                if rng.random() < 0.3:
                    inserts.append((stmt.lineno - 1, " " * stmt.col_offset + "# " + rng.choice(_PHRASES)))
    for at, text in sorted(inserts, key=lambda x: x[0], reverse=True):
        out_lines.insert(at, text)
    out = "\n".join(ln for ln in out_lines if ln.strip() or True)
    out = re.sub(r"\n{3,}", "\n\n", out)
    out = f"# {rng.choice(_PHRASES)}\n" + out
    ast.parse(out)
    return out


def reformat(source: str, rng: random.Random) -> str:
    """Another layout: either ast.unparse (quotes, parentheses, spacing, comments gone) or
    two-space indentation with blank lines between statements."""
    if rng.random() < 0.5:
        return "import numpy as np\n" + ast.unparse(ast.parse(source)) + "\n" if "import numpy" not in source \
            else ast.unparse(ast.parse(source)) + "\n"
    tree = ast.parse(source)
    starts = {n.lineno - 1 for n in ast.walk(tree) if isinstance(n, ast.stmt)}
    strings = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.end_lineno > n.lineno:
            strings |= set(range(n.lineno, n.end_lineno))  # the lines inside a multi-line string
    out = []
    for i, line in enumerate(source.split("\n")):
        if i in strings:
            out.append(line)
            continue
        body = line.lstrip(" ")
        indent = (len(line) - len(body)) // 2
        if i in starts and body and rng.random() < 0.3:
            out.append("")
        out.append(" " * indent + body)
    text = "\n".join(out)
    ast.parse(text)
    return text


_DEAD = ("{v} = {n}", "if False:\n{i}    print('debug', {n})", "pass", "{v} = len(str({n}))", "None",
         "assert True", "'''unused'''", "{v} = [{n}] * 2")


_HELPERS = ("return [{a}] * {n}", "return {a} + {n}", "print({a})\n    return None", "return str({a}).upper()",
            "for _ in range({n}):\n        {a} = {a} * 2\n    return {a}", "return len({a}) > {n}")


def dead_code(source: str, rng: random.Random) -> str:
    """One to three useless statements inside the functions, and a helper nobody calls."""
    tree = ast.parse(source)
    taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    spots = [s for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) for s in n.body[1:] + n.body[:1]]
    lines = source.split("\n")
    inserts = []
    for stmt in rng.sample(spots, min(len(spots), rng.randint(1, 3))):
        indent = " " * stmt.col_offset
        text = rng.choice(_DEAD).format(v=_fresh(rng, taken), n=rng.randrange(1, 99), i=indent)
        inserts.append((stmt.lineno - 1, indent + text))
    for at, text in sorted(inserts, key=lambda x: x[0], reverse=True):
        lines.insert(at, text)
    helper, arg = _fresh(rng, taken), _fresh(rng, taken)
    body = rng.choice(_HELPERS).format(a=arg, n=rng.randrange(2, 9))
    out = "\n".join(lines) + f"\n\n\ndef {helper}({arg}):\n    {body}\n"
    ast.parse(out)
    return out


def matmul_swap(source: str, rng: random.Random) -> str:
    """Every ``a @ b`` becomes ``np.matmul(a, b)``; in a file without any, every
    ``np.matmul``/``np.dot(a, b)`` becomes ``a @ b``."""
    m = re.search(r"^import numpy as (\w+)", source, re.M)
    np_name = m.group(1) if m else "np"
    if not m:
        source = "import numpy as np\n" + source

    def offsets(text):
        starts, pos = [], 0
        for ln in text.split("\n"):
            starts.append(pos)
            pos += len(ln.encode()) + 1
        return starts

    def span(text, node):
        st = offsets(text)
        return st[node.lineno - 1] + node.col_offset, st[node.end_lineno - 1] + node.end_col_offset

    def seg(raw, node, text):
        a, b = span(text, node)
        return raw[a:b].decode()

    to_call = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult) for n in ast.walk(ast.parse(source)))
    for _ in range(200):
        tree = ast.parse(source)
        raw = source.encode()
        target = None
        for n in ast.walk(tree):
            if to_call and isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult):
                target = n, f"{np_name}.matmul({seg(raw, n.left, source)}, {seg(raw, n.right, source)})"
                break
            if (not to_call and isinstance(n, ast.Call) and len(n.args) == 2 and not n.keywords
                    and isinstance(n.func, ast.Attribute) and n.func.attr in ("matmul", "dot")
                    and isinstance(n.func.value, ast.Name) and n.func.value.id == np_name):
                target = n, f"({seg(raw, n.args[0], source)} @ {seg(raw, n.args[1], source)})"
                break
        if target is None:
            break
        a, b = span(source, target[0])
        source = (raw[:a] + target[1].encode() + raw[b:]).decode()
    ast.parse(source)
    return source


def _names(node, store: bool) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) == store}


def tweak(source: str, rng: random.Random) -> str:
    """Small edits inside the code (not one of the brief's disguises, but what a copier also
    does): a large fill value changed (``-1e9`` -> ``-1e10``) and two adjacent independent
    statements swapped."""
    tree = ast.parse(source)
    edits = [(n.lineno, n.col_offset, n.end_col_offset, repr(n.value * 10)) for n in ast.walk(tree)
             if isinstance(n, ast.Constant) and type(n.value) is float and abs(n.value) >= 1e3 and n.lineno == n.end_lineno]
    source = _edit(source, edits)
    tree = ast.parse(source)
    swaps = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for a, b in zip(body, body[1:]):
            if (isinstance(a, ast.Assign) and isinstance(b, ast.Assign) and a.end_lineno < b.lineno
                    and not (_names(a, True) & (_names(b, False) | _names(b, True)))
                    and not (_names(b, True) & _names(a, False))):
                swaps.append((a, b))
    if swaps:
        a, b = rng.choice(swaps)
        lines = source.split("\n")
        first, second = lines[a.lineno - 1:a.end_lineno], lines[b.lineno - 1:b.end_lineno]
        lines[a.lineno - 1:b.end_lineno] = second + lines[a.end_lineno:b.lineno - 1] + first
        source = "\n".join(lines)
    ast.parse(source)
    return source


DISGUISES = {"rename": rename, "reorder": reorder, "recomment": recomment, "reformat": reformat,
             "dead-code": dead_code, "matmul-swap": matmul_swap, "tweak": tweak}
HEAVY = ("rename", "reorder", "matmul-swap", "dead-code", "recomment", "reformat")  # the brief's disguises


def disguise(source: str, seed: int, steps=None) -> str:
    """``source`` through the named disguises (all of them by default), in a fixed order."""
    rng = random.Random(seed)
    for name in steps or HEAVY:
        source = DISGUISES[name](source, rng)
    return source


def labelled(copies: int = 3) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """problem -> ({name: source}, {name: origin}) of the originals and their disguised copies."""
    out = {}
    for problem, files in independent().items():
        sources, origin = {}, {}
        for i, (name, src) in enumerate(sorted(files.items())):
            sources[name], origin[name] = src, name
            for j, step in enumerate(DISGUISES):
                copy = f"{name}~{step}"
                sources[copy], origin[copy] = disguise(src, 1000 * i + j, [step]), name
            for j in range(copies):
                copy = f"{name}~all{j}"
                sources[copy], origin[copy] = disguise(src, 1000 * i + 100 + j), name
        out[problem] = sources, origin
    return out


# ---------------------------------------------------------------- measuring


def all_scores(sources: dict[str, str], starter: str) -> dict[tuple[str, str], float]:
    """Every pair's score, whatever the threshold (0 for those sharing too little)."""
    scores = {p: 0.0 for p in combinations(sorted(sources), 2)}
    scores.update({(a, b): s for a, b, s in similarity.pairs(sources, starter, threshold=0.0)})
    return scores


def measure(threshold: float, copies: int, verbose: bool = True) -> dict:
    pos, neg = [], []  # (score, a, b)
    for problem, (sources, origin) in sorted(labelled(copies).items()):
        starter = starter_source(bank.load_problem(problem))
        for (a, b), s in all_scores(sources, starter).items():
            (pos if origin[a] == origin[b] else neg).append((s, f"{problem}: {a}", f"{problem}: {b}"))
    tp = sum(s >= threshold for s, *_ in pos)
    fp = sum(s >= threshold for s, *_ in neg)
    sweep = {}
    for t in (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9):
        tp_t, fp_t = sum(s >= t for s, *_ in pos), sum(s >= t for s, *_ in neg)
        sweep[t] = (tp_t / (tp_t + fp_t) if tp_t + fp_t else 1.0, tp_t / len(pos))
    result = {"sweep": sweep, "threshold": threshold, "positives": len(pos), "negatives": len(neg), "tp": tp, "fp": fp,
              "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / len(pos) if pos else 1.0,
              "min_positive": min(pos), "max_negative": max(neg)}
    if verbose:
        by_kind: dict[str, list[float]] = {}
        for s, a, b in pos:
            kinds = {x.split("~")[1] for x in (a, b) if "~" in x}
            kind = "+".join(sorted(kinds)) if len(kinds) == 1 else "copy vs copy"
            by_kind.setdefault(kind, []).append(s)
        print(f"{len(pos)} pairs of copies, {len(neg)} pairs of independent solutions, "
              f"{sum(len(f) for f in independent().values())} independent solutions of {len(independent())} problems")
        print("scores of copies against their original (min / mean):")
        for kind, scores in sorted(by_kind.items()):
            print(f"  {kind:14s} {min(scores):.3f} / {sum(scores) / len(scores):.3f}  ({len(scores)} pairs)")
        print("highest scores of independent pairs:")
        for s, a, b in sorted(neg, reverse=True)[:5]:
            print(f"  {s:.3f}  {a}  vs  {b.split(': ', 1)[1]}")
        print(f"lowest score of a copy: {result['min_positive'][0]:.3f} ({result['min_positive'][1]} vs "
              f"{result['min_positive'][2].split(': ', 1)[1]})")
        print("threshold  precision  recall")
        for t, (prec, rec) in sweep.items():
            print(f"  {t:.2f}     {prec:.3f}     {rec:.3f}")
    return result


def tune(copies: int) -> None:
    """The gap between the lowest copy and the highest independent pair for other K and WINDOW."""
    corpus = labelled(copies)
    starters = {p: starter_source(bank.load_problem(p)) for p in corpus}
    chosen = similarity.K, similarity.WINDOW
    try:
        for k in (6, 8, 10, 12, 15, 20):
            for w in (1, 2, 3, 4, 6):
                similarity.K, similarity.WINDOW = k, w
                pos, neg = [], []
                for problem, (sources, origin) in corpus.items():
                    for (a, b), sc in all_scores(sources, starters[problem]).items():
                        (pos if origin[a] == origin[b] else neg).append(sc)
                mark = "  <- chosen" if (k, w) == chosen else ""
                print(f"  K={k:2d} WINDOW={w}: lowest copy {min(pos):.3f}, highest independent {max(neg):.3f}, "
                      f"gap {min(pos) - max(neg):+.3f}{mark}")
    finally:
        similarity.K, similarity.WINDOW = chosen


def copydetect_scores(copies: int) -> tuple[list[float], list[float], float]:
    """(scores of copies, scores of independent pairs, seconds) by copydetect."""
    import io

    from copydetect import CodeFingerprint, compare_files

    def fingerprint(text, boilerplate=None):
        return CodeFingerprint("x.py", 25, 6, boilerplate=boilerplate, fp=io.StringIO(text))

    pos, neg, took = [], [], 0.0
    for problem, (sources, origin) in sorted(labelled(copies).items()):
        t = time.perf_counter()
        import numpy as np

        template = CodeFingerprint("x.py", 25, 1, fp=io.StringIO(starter_source(bank.load_problem(problem))))
        boilerplate = np.unique(np.array(list(template.hashes)))
        prints = {name: fingerprint(src, boilerplate) for name, src in sources.items()}
        scores = {}
        for a, b in combinations(sorted(sources), 2):
            _, (s1, s2), _ = compare_files(prints[a], prints[b])
            scores[a, b] = max(s1, s2)
        took += time.perf_counter() - t
        for (a, b), sc in scores.items():
            (pos if origin[a] == origin[b] else neg).append(float(sc))
    return pos, neg, took


def report_copydetect(copies: int) -> None:
    pos, neg, took = copydetect_scores(copies)
    print(f"copydetect: lowest copy {min(pos):.3f}, highest independent pair {max(neg):.3f} ({took:.1f} s)")
    for t in (0.33, 0.5, 0.65, 0.8):  # 0.33 is its default display threshold
        tp, fp = sum(s >= t for s in pos), sum(s >= t for s in neg)
        print(f"  threshold {t:.2f}: precision {tp / (tp + fp) if tp + fp else 1:.3f}, recall {tp / len(pos):.3f}")


def report_variants(threshold: float) -> None:
    """The wrong-answer files: how many pairs of one problem's are flagged (not scored)."""
    flagged = total = 0
    for problem, files in sorted(variants().items()):
        starter = starter_source(bank.load_problem(problem))
        found = similarity.pairs(files, starter, threshold)
        flagged += len(found)
        total += len(files) * (len(files) - 1) // 2
    print(f"wrong-answer variants (one-line edits of a common base, not in the scores above): "
          f"{flagged} of {total} pairs at or above {threshold}")


def scale(n: int) -> None:
    """Time pairs() on n submissions of one problem: disguised copies of its solutions."""
    files = {**independent()["sdpa"], **variants()["sdpa"]}
    names = sorted(files)
    sources = {f"student{i:04d}.py": disguise(files[names[i % len(names)]], i) for i in range(n)}
    starter = starter_source(bank.load_problem("sdpa"))
    t0 = time.perf_counter()
    for src in sources.values():
        similarity.fingerprints(src)
    t1 = time.perf_counter()
    found = similarity.pairs(sources, starter)
    t2 = time.perf_counter()
    print(f"{n} submissions (disguised copies of the {len(names)} sdpa files, {n * (n - 1) // 2} pairs): "
          f"pairs() took {t2 - t1:.2f} s (fingerprinting alone {t1 - t0:.2f} s), {len(found)} pairs reported")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, default=similarity.THRESHOLD)
    parser.add_argument("--copies", type=int, default=3, help="copies with every disguise at once, per solution")
    parser.add_argument("--scale", type=int, default=0, help="also time pairs() on this many submissions")
    parser.add_argument("--copydetect", action="store_true", help="also score the corpus with copydetect")
    parser.add_argument("--tune", action="store_true", help="also show the gap for other K and WINDOW")
    args = parser.parse_args()
    r = measure(args.threshold, args.copies)
    print(f"threshold {r['threshold']}: precision {r['precision']:.3f} ({r['tp']} of {r['tp'] + r['fp']} reported "
          f"pairs are copies), recall {r['recall']:.3f} ({r['tp']} of {r['positives']} copies found)")
    print(f"gap: lowest copy {r['min_positive'][0]:.3f}, highest independent pair {r['max_negative'][0]:.3f}")
    report_variants(args.threshold)
    if args.scale:
        scale(args.scale)
    if args.copydetect:
        report_copydetect(args.copies)
    if args.tune:
        tune(args.copies)


if __name__ == "__main__":
    main()
