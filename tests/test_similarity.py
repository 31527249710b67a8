"""`grade --similarity`: near-duplicate submissions (mhajudge.similarity).

The labelled corpus and the disguises are the benchmark's
(benchmarks/similarity_precision_recall.py): independent solutions of every problem,
in different styles, and copies of each disguised by renaming, reordering, new
comments and docstrings, reformatting, dead code and ``@``/``np.matmul`` swaps.
"""

import csv
import io
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from itertools import combinations

import pytest

from conftest import ROOT, SOLUTIONS, run_cli

sys.path.insert(0, str(ROOT / "benchmarks"))

import similarity_precision_recall as bench  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.similarity import THRESHOLD, fingerprints, pairs, score  # noqa: E402
from mhajudge.starter import starter_source  # noqa: E402


def starter(problem="sdpa"):
    return starter_source(bank.load_problem(problem))


SDPA = (SOLUTIONS / "sdpa" / "correct_einsum.py").read_text()
LOOPS = (SOLUTIONS / "sdpa" / "correct_loops.py").read_text()


@pytest.fixture(scope="module")
def corpus():
    return bench.labelled(copies=1)


# ---------------------------------------------------------------- the measurement


def test_every_disguised_copy_is_found(corpus):
    missed = []
    for problem, (sources, origin) in corpus.items():
        found = {(a, b) for a, b, _ in pairs(sources, starter(problem))}
        missed += [(problem, a, b) for a, b in combinations(sorted(sources), 2)
                   if origin[a] == origin[b] and (a, b) not in found]
    assert not missed, missed[:10]


def test_no_two_independent_solutions_are_flagged(corpus):
    flagged = []
    for problem, (sources, origin) in corpus.items():
        flagged += [(problem, a, b, s) for a, b, s in pairs(sources, starter(problem)) if origin[a] != origin[b]]
    assert not flagged, flagged[:10]


def test_the_threshold_sits_in_the_gap_with_room_on_both_sides(corpus):
    pos, neg = [], []
    for problem, (sources, origin) in corpus.items():
        for (a, b), s in bench.all_scores(sources, starter(problem)).items():
            (pos if origin[a] == origin[b] else neg).append(s)
    assert max(neg) < THRESHOLD - 0.1 and min(pos) > THRESHOLD + 0.1, (max(neg), min(pos))


@pytest.mark.parametrize("step", sorted(bench.DISGUISES))
def test_each_disguise_alone_keeps_a_copy_a_copy(step):
    for problem, files in bench.independent().items():
        for i, (name, src) in enumerate(sorted(files.items())):
            copy = bench.disguise(src, i, [step])
            assert score(src, copy, starter(problem)) >= 0.85, (problem, name, step)


# ---------------------------------------------------------------- what does not matter


def test_renaming_reordering_comments_and_layout_change_nothing():
    original = '''import numpy as np


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def scaled_dot_product_attention(Q, K, V, mask=None):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -1e9)
    w = softmax(s)
    return w @ V, w
'''
    disguised = '''# my own work, honest
from numpy import exp, sqrt, where, swapaxes, matmul
import numpy


def scaled_dot_product_attention(query, keys, values, mask=None):
    """Attention, as seen in class."""
    logits = matmul(query, swapaxes(keys, -1, -2)) / sqrt(query.shape[-1])   # scores
    unused = logits.shape
    if mask is not None:
        logits = where(mask, logits, -1e9)
    if False:
        print("debugging")
    attn = normalise(logits)
    return numpy.matmul(attn, values), attn


def normalise(x):
    # subtract the max for stability
    x = x - numpy.max(x, axis=-1, keepdims=True)
    pass
    ex = exp(x)
    return ex / numpy.sum(ex, -1, keepdims=True)
'''
    assert fingerprints(original) == fingerprints(disguised)


def test_einsum_letters_and_keyword_order_do_not_matter():
    a = 'import numpy as np\ndef f(q, k):\n    return np.einsum("bqd,bkd->bqk", q, k).max(axis=-1, keepdims=True)\n'
    b = 'import numpy as np\ndef f(q, k):\n    return np.max(np.einsum("xyz,xwz->xyw", q, k), keepdims=True, axis=-1)\n'
    assert fingerprints(a) == fingerprints(b)


def test_what_code_does_still_matters():
    other = SDPA.replace("np.exp(scores - m)", "np.tanh(scores - m)").replace("np.sqrt(Q.shape[-1])", "Q.shape[-1]")
    assert fingerprints(other) != fingerprints(SDPA)
    assert score(SDPA, LOOPS, starter()) < 0.3


# ---------------------------------------------------------------- the starter


def test_untouched_starters_are_not_similar():
    s = starter()
    assert pairs({"a.py": s, "b.py": s, "c.py": s + "\n# I gave up\n"}, s, threshold=0.0) == []


def test_sharing_only_the_starter_text_is_not_similarity():
    """Two different solutions that both kept every line of the starter (header,
    docstring, signature, and the raise left below their code) are as dissimilar as
    without it; two that only wrote the same one-liner are not reported."""
    s = starter()
    a = s.replace("    raise NotImplementedError", SDPA.split("mask=None):\n")[1] + "    raise NotImplementedError")
    b = s.replace("    raise NotImplementedError", LOOPS.split("mask=None):\n")[1] + "    raise NotImplementedError")
    assert score(a, b, s) <= score(SDPA, LOOPS, s) + 0.05 < THRESHOLD
    assert pairs({"a.py": a, "b.py": b}, s) == []
    one_liner = s.replace("raise NotImplementedError", "return Q, K")
    assert pairs({"a.py": one_liner, "b.py": one_liner}, s, threshold=0.0) == []


def test_code_the_starter_gave_never_makes_two_submissions_similar():
    helper = '''import numpy as np


def stable_softmax(z, axis=-1):
    """Given: a numerically stable softmax."""
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def split_heads(x, h):
    b, l, e = x.shape
    return x.reshape(b, l, h, e // h).transpose(0, 2, 1, 3)


def scaled_dot_product_attention(Q, K, V, mask=None):
    raise NotImplementedError
'''
    a = helper.replace("    raise NotImplementedError", SDPA.split("mask=None):\n")[1])
    b = helper.replace("    raise NotImplementedError", LOOPS.split("mask=None):\n")[1])
    assert pairs({"a.py": a, "b.py": b}, helper, threshold=0.0) == []
    assert score(a, b) > 0.25, "without the starter, the helpers it gave are shared code"
    # a real copy is still found when the starter is subtracted
    assert pairs({"a.py": a, "c.py": bench.disguise(a, 1)}, helper)


# ---------------------------------------------------------------- files that do not parse, hostile files


def test_two_copies_of_a_broken_file_are_found():
    broken = SDPA.replace("if mask is not None:", "if mask is not None") + "\n)))) (\n"
    renamed = broken.replace("scores", "logits").replace("keepdims", "keepdims")
    assert pairs({"a.py": broken, "b.py": renamed, "c.py": LOOPS}, starter())[0][:2] == ("a.py", "b.py")
    assert score(SDPA, broken, starter()) >= THRESHOLD


def test_unparsable_text_falls_back_to_tokens():
    junk = "def f(:\n    x = = 1\n" * 3 + "\x00" + SDPA
    assert fingerprints(junk) and score(junk, junk.replace("scores", "s2")) >= THRESHOLD


def test_hostile_sources_are_bounded():
    cases = ["x = " + "(" * 5000 + "1" + ")" * 5000, "x = 1" + " + y" * 60000,
             "def f(a):\n" + "    a = a + 1\n" * 30000, "@@ (( ]] " * 30000, "\ud800\udcff" * 1000, ""]
    t = time.perf_counter()
    for src in cases:
        fingerprints(src)
    assert time.perf_counter() - t < 10


def test_fingerprints_are_the_same_in_every_process():
    """Python salts str hashes per process; the scores must not change between runs."""
    code = ("import sys; sys.path.insert(0, %r); from mhajudge.similarity import fingerprints; "
            "print(sorted(fingerprints(open(%r).read()))[:20])") % (str(ROOT), str(SOLUTIONS / "sdpa" / "correct_loops.py"))
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1 and outs.pop().startswith("[")


def test_hundreds_of_submissions_take_seconds():
    files = sorted({**bench.independent()["sdpa"], **bench.variants()["sdpa"]}.values())
    sources = {f"s{i:03d}.py": bench.disguise(files[i % len(files)], i) for i in range(200)}
    t = time.perf_counter()
    found = pairs(sources, starter())
    assert time.perf_counter() - t < 10
    assert all(0 <= s <= 1 for *_, s in found)
    assert [s for *_, s in found] == sorted((s for *_, s in found), reverse=True)


# ---------------------------------------------------------------- through the CLI


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("similar")
    (d / "alice").mkdir()
    (d / "alice" / "solution.py").write_text(SDPA)
    (d / "bob.py").write_text(bench.disguise(SDPA, 7))                    # alice's, disguised
    (d / "carol.py").write_text(LOOPS)                                    # independent
    (d / "dave.py").write_text(starter())                                 # the starter, untouched
    (d / "erin.py").write_text(starter())                                 # the same
    (d / "frank.py").write_text(SDPA.replace("if mask is not None:", "if mask is not None"))  # alice's, broken
    (d / "[bold red]mallory\x1b[2J.py").write_text(bench.disguise(LOOPS, 3))   # carol's, under a hostile name
    return d


MALLORY = "[bold red]mallory\\u001b[2J.py"  # as reports keep the name


def grade(folder, *args):
    return run_cli("grade", folder, "--problem", "sdpa", "--time-limit", "2", *args)


def test_grade_similarity_json(folder):
    code, out, err = grade(folder, "--similarity", "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert [r["path"] for r in report["submissions"]] == [
        MALLORY, "alice", "bob.py", "carol.py", "dave.py", "erin.py", "frank.py"]
    found = report["similarity"]
    assert {(p["a"], p["b"]) for p in found} == {("alice", "bob.py"), ("alice", "frank.py"), ("bob.py", "frank.py"),
                                                 (MALLORY, "carol.py")}
    assert all(set(p) == {"a", "b", "score"} and THRESHOLD <= p["score"] <= 1 for p in found)
    assert [p["score"] for p in found] == sorted((p["score"] for p in found), reverse=True)
    assert report["similarity_threshold"] == THRESHOLD


def test_grade_similarity_threshold(folder):
    code, out, err = grade(folder, "--similarity-threshold", "1", "--format", "json")
    assert code == 0, err
    assert all(p["score"] == 1 for p in json.loads(out)["similarity"])
    code, out, err = grade(folder, "--similarity-threshold", "1.5")
    assert code == 2 and "between 0 and 1" in err and "Traceback" not in err


def test_grade_similarity_table_lists_the_pairs_after_the_grades(folder):
    code, out, err = grade(folder, "--similarity")
    assert code == 0, err
    assert out.index("accepted in") < out.index("near-duplicate pair")
    tail = out[out.index("near-duplicate pair"):]
    assert "bob.py" in tail and "carol.py" in tail and "dave.py" not in tail
    assert "[bold red]mallory" in tail and "\x1b" not in out, "a name is shown as it is, never as markup"


def test_without_similarity_nothing_changes_and_csv_junit_never_do(folder, tmp_path):
    code, out, err = grade(folder, "--format", "json")
    assert code == 0, err
    assert "similarity" not in json.loads(out)
    for flags in ((), ("--similarity",)):
        csv_path, xml_path = tmp_path / f"g{len(flags)}.csv", tmp_path / f"j{len(flags)}.xml"
        code, _, err = grade(folder, *flags, "--format", "junit", "-o", xml_path, "--csv", csv_path)
        assert code == 0, err
        rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
        assert list(rows[0]) == ["path", "verdict", "passed", "total", "score", "time_s", "diagnoses", "reason", "notes"]
        assert len(rows) == 7
        root = ET.parse(xml_path).getroot()
        assert len(root.findall("testsuite")) == 7 and "similar" not in xml_path.read_text()
