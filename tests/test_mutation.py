"""mhajudge.mutation: single-site mutants of a reference, judged on the hidden cases."""

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mhajudge import bank, mutation
from mhajudge.cases import build

SOFTMAX = (bank.reference_dir() / "softmax.py").read_text()


def test_each_mutant_changes_exactly_one_place_and_compiles():
    original = ast.dump(ast.parse(SOFTMAX))
    found = mutation.mutants(SOFTMAX)
    assert len(found) == len({m.source for m in found}) > 10
    for m in found:
        compile(m.source, "<m>", "exec")
        assert ast.dump(ast.parse(m.source)) != original
    labels = {m.description.split(": ", 1)[1].split("  (")[0] for m in found}
    assert {"max( -> min(", "max( -> mean(", "Sub -> Add", "keepdims=True -> False"} <= labels


def test_kinds_select_the_mutants():
    only = mutation.mutants(SOFTMAX, ("reduction",))
    assert only and all(m.kind == "reduction" for m in only)


def test_docstrings_and_error_messages_are_not_mutated():
    src = 'def f(x):\n    """Doc 1."""\n    if x < 0:\n        raise ValueError(f"bad {x + 1}")\n    return x\n'
    descriptions = [m.description for m in mutation.mutants(src)]
    assert not any("Add" in d for d in descriptions)          # x + 1 sits in the message
    assert any("Lt -> LtE" in d for d in descriptions)


@pytest.fixture(scope="module")
def softmax_cases():
    return build(bank.load_problem("softmax"))


def test_an_unstable_softmax_mutant_is_rejected_on_the_large_logits(softmax_cases):
    m = next(m for m in mutation.mutants(SOFTMAX) if "max( -> mean(" in m.description)
    v = mutation.judge(softmax_cases, m)
    assert v.rejected and "1e4" in v.case and v.verdict == "wrong-answer"


def test_an_equivalent_mutant_survives(softmax_cases):
    m = next(m for m in mutation.mutants(SOFTMAX) if "np.asarray(x)` deleted" in m.description)
    assert not mutation.judge(softmax_cases, m).rejected


def test_a_mutant_that_never_ends_is_stopped(softmax_cases):
    m = mutation.Mutant("delete", 1, "loops", "def softmax(x, axis=-1):\n    while True:\n        pass\n")
    v = mutation.judge(softmax_cases, m, timeout=1.0)
    assert v.rejected and v.verdict == "time-limit"


def test_a_mutant_that_kills_its_process_is_rejected(softmax_cases):
    m = mutation.Mutant("delete", 1, "exits", "import os\ndef softmax(x, axis=-1):\n    os._exit(3)\n")
    v = mutation.judge(softmax_cases, m, timeout=5.0)
    assert v.rejected and v.verdict.startswith("runtime-error")


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["+", "-", "*", "/"]), st.integers(-3, 3), st.sampled_from(["<", "<=", ">", ">="]))
def test_every_operator_and_constant_gets_a_mutant(op, k, cmp):
    src = f"def f(a, b):\n    c = a {op} b\n    if c {cmp} {k}:\n        return c\n    return -c\n"
    kinds = {m.kind for m in mutation.mutants(src)}
    assert {"binop", "compare", "constant", "unary", "delete"} <= kinds
