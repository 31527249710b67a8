"""The judge's functions built from arrays (sandbox/models.py), token-id answers, and the
program features beam-search, generate and speculative-decoding need ($args, timed steps)."""

import select
import socket
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SOLUTIONS, run_json
from mhajudge.author import CALLS_LEAF, ROWS_LEAF, TIMES_LEAF, model
from mhajudge.sandbox import CHILD_FILES, answers, models, programs, serving, wire
from mhajudge.sandbox.isolation import bwrap_problem
from mhajudge.sandbox.replies import case_result, expected_leaves


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


def test_the_candidate_sends_no_usage_leaves_the_judge_adds_the_childs_counts():
    inputs = {"args": [marker()], "kwargs": {}}
    program = {"kind": "call", "returns": ["sequences:ids", "scores"]}
    assert expected_leaves(program, inputs) == {"sequences", "scores"}   # never the candidate's to send
    answer = {"sequences": np.zeros((1, 2), dtype=np.int64), "scores": np.zeros(1)}
    ok = {"reply": {"status": "ok", "time_s": 0.001},
          "measured": {"wall_s": 0.01, "cpu_s": 0.001, "model_calls": 4, "model_rows": 9}}
    got = case_result(ok, dict(answer), program, 5.0, expected_leaves(program, inputs), served=True)
    assert got.status == "ok" and int(got.answer[CALLS_LEAF]) == 4 and int(got.answer[ROWS_LEAF]) == 9
    forged = {**answer, ROWS_LEAF: np.asarray(0, dtype=np.int64)}      # a frame forged with its own count
    assert case_result(ok, forged, program, 5.0, expected_leaves(program, inputs), served=True).status \
        == "runtime-error"
    uncounted = {"reply": ok["reply"], "measured": {"wall_s": 0.01, "cpu_s": 0.001}}
    assert case_result(uncounted, dict(answer), program, 5.0, expected_leaves(program, inputs),
                       served=True).status == "runtime-error"       # no count: never taken as zero


def test_the_child_loads_models_in_the_isolated_view():
    assert {"models.py", "serving.py"} <= {f.name for f in CHILD_FILES}


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


def test_the_reference_is_timed_by_the_least_cpu_time_of_each_step():
    def work(n):
        return sum(i * i for i in range(n))

    inputs = {"args": [], "steps": [{"args": [10_000]}, {"args": [80_000]}]}
    times = programs.time_steps(work, inputs, repeats=3)
    assert len(times) == 2 and 0 < times[0] < times[1]
    program = {"kind": "steps", "times": True, "returns": "tokens:ids"}
    assert TIMES_LEAF not in expected_leaves(program, inputs)   # the child's to measure, never the candidate's


def test_step_times_come_from_what_the_child_measured():
    program = {"kind": "steps", "times": True, "returns": "tokens:ids"}
    inputs = {"args": [], "steps": [{"args": [1]}, {"args": [2]}]}
    leaves = expected_leaves(program, inputs)
    answer = {"step 0 tokens": np.zeros(1, dtype=np.int64), "step 1 tokens": np.zeros(2, dtype=np.int64)}
    out = {"reply": {"status": "ok", "time_s": 0.01},
           "measured": {"wall_s": 1.0, "cpu_s": 0.5, "step_times": [0.002, 0.004]}}
    got = case_result(out, dict(answer), program, 5.0, leaves, timed=2)
    assert got.status == "ok" and got.answer[TIMES_LEAF].tolist() == [0.002, 0.004]
    forged = {**answer, TIMES_LEAF: np.zeros(2)}                         # the candidate's own timings
    assert case_result(out, forged, program, 5.0, leaves, timed=2).status == "runtime-error"
    for bad in ([0.002], [0.002, float("nan")], [0.002, -1.0], None, [1, 2]):
        out["measured"]["step_times"] = bad
        assert case_result(out, dict(answer), program, 5.0, leaves, timed=2).status == "runtime-error", bad


def test_a_steps_return_needs_to_be_a_tuple_only_when_it_is_fed_back():
    out = programs.call_program(lambda n: n * 2, "steps", {"steps": [{"args": [1]}, {"args": [2]}]})
    assert out == [2, 4]
    with pytest.raises(TypeError, match="step 0 returned a int"):
        programs.call_program(lambda n: n, "steps", {"steps": [{"args": [1]}, {"args": [{"$prev": 0}]}]})


# -- end to end, in the sandbox --------------------------------------------------------

def test_resetting_the_counts_in_any_way_leaves_every_case_over_its_budget():
    """hostile_counts_reset.py rescores from scratch, then zeroes every count it can reach in its
    process and closes its channel: the counts are the child's, and every case says so."""
    code, report = run_json("run", SOLUTIONS / "beam-search" / "hostile_counts_reset.py")
    assert code == 1 and report["verdict"] == "wrong-answer"
    assert all("the answer is right, but the search asked step() for" in c["message"] for c in report["cases"]), \
        [c["message"][:80] for c in report["cases"]]


def test_the_case_process_never_holds_its_own_model():
    """hostile_model_hunt.py rescores on any model weights it finds in its process, uncounted: were
    its own case's there, that case would be accepted."""
    code, report = run_json("run", SOLUTIONS / "beam-search" / "hostile_model_hunt.py")
    assert code == 1 and not [c["name"] for c in report["cases"] if c["verdict"] == "accepted"]


GREEDY = """
import numpy as np
def beam_search(step, bos, eos, beam_width, max_len):
    seq, score = [bos], 0.0
    for _ in range(max_len):
        logp = step([seq])[0]
        t = int(np.argmax(logp)); seq, score = seq + [t], score + float(logp[t])
        if t == eos:
            break
    return [seq], [score]
"""


@pytest.mark.parametrize("isolate", [False, True])
def test_an_honest_search_is_counted_as_it_asked_once(tmp_path, isolate):
    """Greedy search, one call of one prefix per step: the child counts exactly that, though the
    program's answer came from a single call (no timing repeats: they would add to the count),
    and the speed of such cases is not compared."""
    from mhajudge import bank
    from mhajudge.cases import build
    from mhajudge.sandbox.runner import Limits, Sandbox
    from mhajudge.track import banned_modules

    if isolate and bwrap_problem() is not None:
        pytest.skip(f"no bubblewrap here: {bwrap_problem()}")
    problem = bank.load_problem("beam-search")
    path = tmp_path / "greedy.py"
    path.write_text("# mhajudge: beam-search\n" + GREEDY)
    eps = [{"name": ep.name, "params": ep.params} for ep in problem.entry_points]
    cases = [c for c in build(problem, secret="counts") if c.args["beam_width"] == 1]
    assert cases and all(c.program["timing"] == {"most": 1} for c in cases)
    with Sandbox(path, eps, banned_modules(problem, "numpy"), Limits(), isolate=isolate) as box:
        for case in cases:
            got = box.run(case.index, case.program, case.inputs, case.time_limit)
            n = len(got.answer["sequences"][0]) - 1          # tokens after bos: one call for each
            assert got.status == "ok" and int(got.answer[CALLS_LEAF]) == n and int(got.answer[ROWS_LEAF]) == n
            assert case.check(case, got.answer).ok


# -- the model answered from the child (serving.py) ------------------------------------

def served(*markers, deadline=None):
    """A Server for ``markers`` polled in a thread, as the child's watch polls it; the
    case-side socket is installed as the proxies' channel."""
    ours, theirs = socket.socketpair()
    server = serving.Server(ours, list(markers))
    stop = threading.Event()
    end = deadline if deadline is not None else time.perf_counter() + 60

    def poll():
        while not stop.is_set() and not server.closed:
            r, w, _ = select.select([server.sock], [server.sock] if server.wants_write() else [], [], 0.02)
            if w:
                server.on_writable(end)
            if r and not server.closed:
                server.on_readable(end)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    serving.CHANNEL[0] = theirs
    return server, theirs, stop


@pytest.fixture
def channel_reset():
    yield
    serving.CHANNEL[0] = None


@given(rows=st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=7), min_size=0, max_size=9))
@settings(max_examples=25, deadline=None)
def test_the_proxy_answers_exactly_what_the_model_would(rows):
    server, _, stop = served(marker(seed=5))
    try:
        here = models.build(marker(seed=5))
        got = serving.proxy({"$served": 0, "vocab": 5})(rows)
        np.testing.assert_array_equal(got, here(rows).reshape(len(rows), 5))
        assert server.usage() == {"calls": 1, "rows": len(rows)}
    finally:
        stop.set()
        serving.CHANNEL[0] = None


def test_the_proxy_refuses_in_the_candidates_process_and_counts_nothing(channel_reset):
    server, _, stop = served(marker())
    step = serving.proxy({"$served": 0, "vocab": 5})
    with pytest.raises(ValueError, match="outside the vocabulary"):
        step([[0, 7]])
    with pytest.raises(TypeError, match="step"):
        step("abc")
    assert server.usage() == {"calls": 0, "rows": 0}
    assert "step(prefixes)" in repr(step)
    with pytest.raises(AttributeError):
        step._counts = [0, 0, 0]                             # nothing to reset: no counts here
    stop.set()


def test_a_request_written_past_the_proxy_is_checked_again_by_the_child(channel_reset):
    server, sock, stop = served(marker())
    lengths, tokens = np.array([2], dtype="<u4"), np.array([0, 9], dtype="<i8")   # token 9: outside V = 5
    sock.sendall(serving.REQUEST.pack(b"STEP", 0, 1, 2) + lengths.tobytes() + tokens.tobytes())
    magic, kind, size = serving.REPLY.unpack(serving._read(sock, serving.REPLY.size))
    assert (magic, kind) == (b"LOGP", serving.VALUE_ERROR) and b"outside the vocabulary" in serving._read(sock, size)
    assert server.usage() == {"calls": 0, "rows": 0}
    stop.set()


@pytest.mark.parametrize("garbage", [
    b"GARBAGE!" * 4,
    serving.REQUEST.pack(b"STEP", 3, 1, 1),                                  # no model 3
    serving.REQUEST.pack(b"STEP", 0, 2**32 - 1, 2**32 - 1),                  # sizes past every bound
    serving.REQUEST.pack(b"STEP", 0, 1, 5) + np.array([2], "<u4").tobytes() + np.zeros(5, "<i8").tobytes(),
])
def test_a_malformed_request_ends_the_service_and_the_next_call_raises(garbage, channel_reset):
    server, sock, stop = served(marker())
    sock.sendall(garbage)
    for _ in range(100):
        if server.closed:
            break
        time.sleep(0.01)
    assert server.closed and server.usage() == {"calls": 0, "rows": 0}
    with pytest.raises(RuntimeError, match="stopped answering"):
        serving.proxy({"$served": 0, "vocab": 5})([[0]])
    stop.set()


def test_the_child_stops_computing_when_the_case_is_out_of_time(channel_reset):
    server, sock, stop = served(marker(), deadline=time.perf_counter() - 1)
    with pytest.raises(RuntimeError):
        serving.proxy({"$served": 0, "vocab": 5})([[0, 1]] * 50)
    assert server.closed
    stop.set()


def test_markers_are_taken_out_of_the_inputs_with_their_vocabulary():
    found = []
    inputs = {"args": [marker(V=7), 1, (marker(V=3),)], "kwargs": {"x": [marker()]}}
    out = serving.strip(inputs, found)
    assert out == {"args": [{"$served": 0, "vocab": 7}, 1, ({"$served": 1, "vocab": 3},)],
                   "kwargs": {"x": [{"$served": 2, "vocab": 5}]}}
    assert len(found) == 3 and not models.has_marker(out)


# -- timed steps handed over by the child (serving.Driver) --------------------------------

def driven(steps, case_side):
    """A Driver for ``steps`` polled in a thread, and ``case_side(sock)`` run as the case's
    process would run it; returns the driver once both are done."""
    ours, theirs = socket.socketpair()
    driver = serving.Driver(ours, steps, wire)
    stop = threading.Event()

    def poll():
        while not stop.is_set() and not driver.closed:
            r, w, _ = select.select([driver.sock], [driver.sock] if driver.wants_write() else [], [], 0.02)
            if w:
                driver.on_writable(0.0)
            if r and not driver.closed:
                driver.on_readable(0.0)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    serving.CHANNEL[0] = theirs
    try:
        case_side(theirs)
    finally:
        serving.CHANNEL[0] = None
        time.sleep(0.05)
        stop.set()
        thread.join(2)
    return driver


def test_steps_are_handed_over_one_at_a_time_and_timed_from_outside():
    seen = []

    def slow_square(n, pause):
        seen.append(n)
        time.sleep(pause)
        return [n * n]

    steps = [{"args": [n, pause], "kwargs": {}} for n, pause in ((2, 0.0), (3, 0.05), (4, 0.0))]

    def case_side(sock):
        flatten = lambda r: answers.flatten(r, "tokens:ids")  # noqa: E731
        results = programs.call_program(slow_square, "steps", {"steps": programs.DRIVEN},
                                        driven=lambda fn, args: serving.driven_steps(fn, wire, flatten, args))
        assert results == [[4], [9], [16]]

    driver = driven(steps, case_side)
    assert driver.complete and seen == [2, 3, 4]
    assert driver.times[1] >= 0.05 > driver.times[0] and driver.times[2] < 0.05   # each step's own time
    assert [int(v[0]) for v in driver.payload().values()] == [4, 9, 16]
    assert sorted(driver.payload()) == ["step 0 tokens", "step 1 tokens", "step 2 tokens"]


@pytest.mark.parametrize("send", [
    lambda: b"not a frame at all, just bytes" * 3,
    lambda: wire.pack({"ready": True}) + wire.pack({"step": 5}, {"tokens": np.zeros(1)}),    # out of turn
    lambda: wire.pack({"step": 0}, {"tokens": np.zeros(1)}),                                 # never said ready
    lambda: wire.pack({"ready": True}) + wire.pack({"step": 0}, [1, 2]),                     # not a flat answer
    lambda: (1 << 40).to_bytes(8, "little") + b"{}",                                         # a huge header
])
def test_a_case_that_writes_its_own_frames_ends_the_hand_over(send):
    def case_side(sock):
        sock.sendall(send())
        time.sleep(0.1)

    driver = driven([{"args": [1], "kwargs": {}}], case_side)
    assert driver.closed and not driver.complete


@pytest.mark.parametrize("name, says", [
    ("hostile_memo.py", "the time grows like"),             # both were accepted when the steps were
    ("hostile_look_ahead.py", "the time grows like"),       # timed by repeats in the case's process
    ("hostile_pad_short_calls.py", "tokens takes"),         # a flat curve, by sleeping: accepted before RATIO_ALONE
])
def test_memo_look_ahead_and_padding_fail_the_timed_case_alone(name, says):
    code, report = run_json("run", SOLUTIONS / "generate" / name)
    failing = [c for c in report["cases"] if c["verdict"] != "accepted"]
    assert code == 1 and [c["name"] for c in failing] == ["time against the length (cached vs recomputed)"], \
        (name, failing)
    assert says in failing[0]["message"], failing[0]


def test_writing_to_the_channel_mid_steps_is_the_candidates_runtime_error(tmp_path):
    f = tmp_path / "gen.py"
    f.write_text((SOLUTIONS / "generate" / "correct_concat.py").read_text() + """
import gc as _gc, socket as _socket
_real = generate
def generate(prompt, params, num_heads, max_new_tokens):
    for o in _gc.get_objects():
        if isinstance(o, _socket.socket) and max_new_tokens > 60:
            try:
                o.sendall(b"garbage frame")
            except OSError:
                pass
    return _real(prompt, params, num_heads, max_new_tokens)
""")
    code, report = run_json("run", f, "--case", "time against")
    (case,) = report["cases"]
    assert code == 1 and case["verdict"] == "runtime-error" and "channel for timed steps" in case["message"], case


@pytest.mark.parametrize("path", [SOLUTIONS / "beam-search" / "hostile_flood_channel.py",
                                  SOLUTIONS / "generate" / "hostile_infinity_header.py"])
def test_what_a_case_sends_the_child_never_brings_it_down(path):
    """A flood behind an unread reply, and a header with Infinity in it, each killed the trusted
    child (whose death was then reported as the candidate's sys.exit or kill)."""
    code, report = run_json("run", path)
    assert code == 1 and report["cases"]
    assert not [c for c in report["cases"] if "ended before answering" in c["message"]], report["cases"]
