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

import zlib
from itertools import combinations

K = 8              # tokens per k-gram
WINDOW = 3         # winnowing window, in k-grams
MIN_SHARED = 6     # fingerprints a pair must share to be reported at all
THRESHOLD = 0.65   # the default --similarity-threshold (see the module docstring)
MAX_REPAIRS = 10   # lines replaced, one at a time, to make a broken file parse
MAX_CHARS = 64_000  # of a source compared (a solution is a few thousand; bounds the work on hostile ones)

# Array methods NumPy also has as functions: ``x.sum(-1)`` is ``numpy.sum(x, axis=-1)``.


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
    from .normalise import units  # loaded when comparing, not when the command line starts

    found = set()
    for unit in units(source):
        found |= _winnow(_kgrams([_token_id(t) for t in unit]))
    return frozenset(found)



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