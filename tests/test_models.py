"""The judge's functions built from arrays (sandbox/models.py), token-id answers, and the
program features beam-search, generate and speculative-decoding need ($args, timed steps)."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_json
from mhajudge.author import CALLS_LEAF, ROWS_LEAF, TIMES_LEAF, model
from mhajudge.sandbox import CHILD_FILES, answers, models, programs
from mhajudge.sandbox.replies import expected_leaves


def marker(V=5, D=3, seed=0):
    rng = np.random.default_rng(seed)
    return model("recurrent", embed=rng.standard_normal((V, D)), W_h=rng.standard_normal((D, D)) / 3,
                 W_out=rng.standard_normal((D, V)), bias=rng.standard_normal(V))


# -- the model -----------------------------------------------------------------------

def test_rows_are_log_probabilities_of_the_whole_prefix():
    step = models.build(marker())
    out = step([[0], [0, 1], [1, 1], np.array([0, 1])])
    assert out.shape == (4, 5)
    np.testing.assert_allclose(np.exp(out).sum(1), 1.0)
    np.testing.assert_array_equal(out[1], out[3])            # a list and an int array alike
    assert not np.allclose(out[1], out[2])                    # depends on more than the last token
    assert step.usage() == (1, 4)


@pytest.mark.parametrize("garbage, error", [
    ("abc", TypeError), ([[1.5]], TypeError), ([[True]], TypeError), ([[-1]], ValueError), ([[5]], ValueError),
    ([[2, 10**40]], ValueError), ([[]], ValueError), ([1, 2], TypeError), ([{"a": 1}], TypeError),
    ([np.zeros((2, 2), dtype=int)], TypeError), ([np.array([0.0, 1.0])], TypeError), (None, TypeError),
])
def test_garbage_is_refused_cleanly(garbage, error):
    step = models.build(marker())
    with pytest.raises(error, match="step"):
        step(garbage)
    assert step.usage() == (0, 0)                            # nothing refused is counted


def test_huge_requests_are_refused_before_any_work():
    step = models.build(marker())
    start = time.process_time()
    with pytest.raises(ValueError, match="prefixes in one call"):
        step([[0]] * (models.MAX_ROWS_PER_CALL + 1))
    with pytest.raises(ValueError, match="tokens"):
        step([[0] * (models.MAX_LENGTH + 1)])
    with pytest.raises(ValueError, match="in all"):
        step([[0] * models.MAX_LENGTH] * (models.MAX_TOTAL_TOKENS // models.MAX_LENGTH + 1))
    assert time.process_time() - start < 5                   # generous: the point is no hang


def test_a_list_subclass_is_not_trusted():
    class Sneaky(list):
        def __len__(self):
            return 1

    with pytest.raises(TypeError):
        models.build(marker())([Sneaky([0, 1, 2])])


def test_slots_keep_attributes_off_the_model():
    step = models.build(marker())
    with pytest.raises(AttributeError):
        step.expected = 1


def test_both_sides_build_the_same_function_from_the_wire_marker():
    wire = {"args": [marker(seed=3), 0]}
    a = programs.with_generators(wire)["args"][0]
    b = programs.with_generators(wire, copy_arrays=True)["args"][0]
    np.testing.assert_array_equal(a([[1, 2]]), b([[1, 2]]))
    assert a is not b and a.usage() == (1, 1) and b.usage() == (1, 1)


def test_usage_leaves_and_the_leaves_the_judge_expects():
    inputs = {"args": [marker()], "kwargs": {}}
    built = programs.with_generators(inputs)
    built["args"][0]([[0], [1]])
    built["args"][0]([[0, 1]])
    extra = programs.extra_leaves(None, {"kind": "call"}, built, [])
    assert int(extra[CALLS_LEAF]) == 2 and int(extra[ROWS_LEAF]) == 3
    program = {"kind": "call", "returns": ["sequences:ids", "scores"]}
    assert expected_leaves(program, inputs) == {"sequences", "scores", CALLS_LEAF, ROWS_LEAF}
    assert expected_leaves(program, {"args": [1]}) == {"sequences", "scores"}


def test_the_child_loads_models_in_the_isolated_view():
    assert any(f.name == "models.py" for f in CHILD_FILES)


# -- token ids ------------------------------------------------------------------------

ids = st.lists(st.integers(0, 2**40), max_size=6)


@given(rows=st.lists(ids.filter(len), min_size=1, max_size=5))
def test_ragged_token_lists_pad_and_round_trip(rows):
    arr = answers.flatten(rows, "sequences:ids")["sequences"]
    assert arr.dtype == np.int64 and arr.shape == (len(rows), max(map(len, rows)))
    assert [[int(t) for t in r if t >= 0] for r in arr] == rows


@given(calls=st.lists(ids, min_size=1, max_size=6))
@settings(max_examples=50)
def test_a_repeat_program_pads_its_calls_token_lists(calls):
    out = programs.shape_answer(calls, "repeat", "tokens:ids", answers)["tokens"]
    assert out.shape == (len(calls), max(map(len, calls)))
    assert [[int(t) for t in r if t >= 0] for r in out] == calls


@pytest.mark.parametrize("bad", [[1.0], [True], [-2], ["3"], [[0], [1.5]], [[0], 3], [2**70], {"a": 1}, None])
def test_token_ids_refuse_what_is_not_a_non_negative_int(bad):
    with pytest.raises(answers.AnswerError):
        answers.flatten(bad, "tokens:ids")


def test_an_empty_array_is_an_empty_list_of_ids():
    assert answers.flatten(np.array([]), "tokens:ids")["tokens"].shape == (0,)


# -- programs -----------------------------------------------------------------------

def test_repeat_items_may_replace_the_positional_arguments():
    out = programs.call_program(lambda a, b, seed=None: (a, b, seed), "repeat",
                                {"args": [1, 2], "kwargs": {}, "vary": [{"seed": 5}, {"$args": [3, 4], "seed": 6}]})
    assert out == [(1, 2, 5), (3, 4, 6)]


def test_timed_steps_take_the_least_cpu_time_of_each_step():
    def work(n):
        return sum(i * i for i in range(n))

    inputs = {"args": [], "steps": [{"args": [10_000]}, {"args": [80_000]}]}
    times = programs.time_steps(work, inputs, [], rounds=3, budget=0.0)
    assert times.shape == (2,) and 0 < times[0] < times[1]
    program = {"kind": "steps", "times": 3, "returns": "tokens:ids"}
    assert TIMES_LEAF in expected_leaves(program, inputs)


def test_a_steps_return_needs_to_be_a_tuple_only_when_it_is_fed_back():
    out = programs.call_program(lambda n: n * 2, "steps", {"steps": [{"args": [1]}, {"args": [2]}]})
    assert out == [2, 4]
    with pytest.raises(TypeError, match="step 0 returned a int"):
        programs.call_program(lambda n: n, "steps", {"steps": [{"args": [1]}, {"args": [{"$prev": 0}]}]})


# -- end to end, in the sandbox --------------------------------------------------------

def test_a_hostile_candidate_resetting_the_counts_only_changes_its_own_report(tmp_path):
    """The counts live in the candidate's process (models.py says so): resetting them hides a
    rescoring search's waste, never makes a wrong answer right."""
    f = tmp_path / "beam.py"
    f.write_text("# mhajudge: beam-search\n"
                 "def beam_search(step, bos, eos, beam_width, max_len):\n"
                 "    step._counts[:] = [0, 0, 0]\n"
                 "    return [[bos, eos]] * beam_width, [0.0] * beam_width\n")
    code, report = run_json("run", f)
    assert code == 1 and report["verdict"] == "wrong-answer"
