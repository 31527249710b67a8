"""Where the code first goes wrong: tracing (child side), the trace reply read as hostile,
and the judge-side comparison that finds the first wrong line."""

import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import run_cli, run_json
from mhajudge.judge import judge_file
from mhajudge.sandbox.traces import read_trace
from mhajudge.sandbox.tracing import Tracer, run_traced


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


SDPA_HEAD = "import numpy as np\n\n\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"


# -- the tracer ----------------------------------------------------------------------

def _fn(tmp_path, body, name="f"):
    path = write(tmp_path, "traced.py", body)
    scope = {"__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), scope)
    return scope[name], str(path)


def test_each_line_s_new_values_are_captured_at_that_line(tmp_path):
    fn, path = _fn(tmp_path, """\
        import numpy as np

        def f(x):
            y = x * 2
            y += 1
            z = y.sum()
            return z, y
        """)
    _, caps = Tracer(path).run(fn, [np.arange(3.0)], {})
    got = [(c["line"], c["name"]) for c in caps]
    assert got == [(3, "x"), (4, "y"), (5, "y"), (6, "z"), (7, "return[0]"), (7, "return[1]")]
    assert caps[2]["value"].tolist() == [1.0, 3.0, 5.0]          # the in-place change is seen


def test_the_tracer_is_bounded_and_survives_hostile_code(tmp_path):
    fn, path = _fn(tmp_path, """\
        import sys
        import numpy as np

        def deep(n):
            a = np.full(3, float(n))
            return a if n == 0 else deep(n - 1)

        def gen(n):
            for i in range(n):
                v = np.ones(2) * i
                yield v

        def f(x):
            big = np.zeros(10_000)                     # too large to copy: shape only
            small = x + 1
            d = deep(200)                              # more frames than followed
            g = sum(gen(5))
            sys.settrace(None)                         # the candidate stops the tracer
            after = x * 3
            return small
        """)
    tracer = Tracer(path, {"max_frames": 16, "max_captures": 50})
    outcome, caps = tracer.run(fn, [np.arange(3.0)], {})
    assert outcome == "ok"
    assert len(caps) <= 50 and len(tracer.frames) == 0
    big = [c for c in caps if c["name"] == "big"]
    assert big and big[0]["value"] is None and big[0]["shape"] == [10_000]
    assert not any(c["name"] == "after" for c in caps)        # the tracer was gone by then
    assert sys.gettrace() != tracer.global_trace                  # put back as it was


def test_a_raising_function_still_gives_its_trace(tmp_path):
    fn, path = _fn(tmp_path, """\
        import numpy as np

        def f(x):
            y = x - 1
            raise ValueError("no")
        """)
    reply, payload = run_traced(fn, {"args": [np.ones(2)]}, path)
    assert reply["outcome"] == "raised" and [m["name"] for m in reply["trace"]] == ["x", "y"]
    assert set(payload) == {m["leaf"] for m in reply["trace"]}


# -- the reply, read as hostile --------------------------------------------------------

def _honest():
    meta = [{"fn": "f", "line": 3, "name": "x", "shape": [2], "leaf": "t0"},
            {"fn": "f", "line": 4, "name": "big", "shape": [9999], "leaf": None}]
    return {"op": "result", "reply": {"status": "traced", "outcome": "ok", "trace": meta}}, {"t0": np.ones(2)}


def test_an_honest_trace_is_read():
    msg, payload = _honest()
    caps = read_trace(msg, payload)
    assert [(c.name, c.shape) for c in caps] == [("x", (2,)), ("big", (9999,))]


@pytest.mark.parametrize("forge", [
    lambda m, p: m["reply"].update(status="ok"),
    lambda m, p: m["reply"]["trace"][0].update(shape=[3]),                   # not the array's shape
    lambda m, p: m["reply"]["trace"][0].update(name="x; rm -rf /"),
    lambda m, p: m["reply"]["trace"][0].update(line=True),
    lambda m, p: m["reply"]["trace"][0].update(leaf="t9"),                   # no such leaf
    lambda m, p: p.update(t0=np.array(["a", "b"])),                         # not numbers
    lambda m, p: p.update(t0=np.zeros(100_000)),                            # too large
    lambda m, p: m["reply"].update(trace=[m["reply"]["trace"][0]] * 10_000),  # too many
    lambda m, p: m.update(ended={"status": "time-limit"}),
])
def test_a_forged_trace_is_no_trace(forge):
    msg, payload = _honest()
    forge(msg, payload)
    assert read_trace(msg, payload) is None


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                     max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(reply=JSONISH, items=st.lists(st.dictionaries(st.sampled_from(["fn", "line", "name", "shape", "leaf"]),
                                                    JSONISH), max_size=4))
def test_any_reply_gives_a_trace_or_none_never_an_error(reply, items):
    got = read_trace({"op": "result", "reply": reply}, {"t0": np.ones(2)})
    assert got is None or got == []           # junk is never a trace with captures in it
    msg = {"op": "result", "reply": {"status": "traced", "outcome": "ok", "trace": items}}
    got = read_trace(msg, {"t0": np.ones(2)})
    assert got is None or all(c.line > 0 for c in got)


# -- the first line that goes wrong --------------------------------------------------------

def test_the_issue_s_example_a_constant_factor(tmp_path):
    path = write(tmp_path, "attn.py", SDPA_HEAD + """\
    d_k = Q.shape[-1]
    scores = Q @ np.swapaxes(K, -1, -2) / d_k**0.25
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return w @ V, w
""")
    report = judge_file(path, "sdpa")
    assert report.verdict == "wrong-answer" and not report.diagnoses
    d = report.divergence
    assert d["line"] == 6 and d["variable"] == "scores"
    assert "differs from the reference's scores by a constant factor" in d["message"]
    assert d["message"].startswith("line 6: scores = Q @ np.swapaxes(K, -1, -2) / d_k**0.25 - ")


def test_a_helper_the_reference_does_not_name_is_not_the_divergence(tmp_path):
    # m (the row maximum) is in no variable of the reference, but what it feeds is right;
    # the wrong line is the normalisation, which sums over the wrong axis.
    path = write(tmp_path, "attn.py", SDPA_HEAD + """\
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -1e9)
    m = s.max(-1, keepdims=True)
    e = np.exp(s - m)
    w = e / e.sum(-2, keepdims=True)
    return w @ V, w
""")
    report = judge_file(path, "sdpa", find_divergence=True)
    assert report.divergence["line"] == 10 and report.divergence["variable"] == "w"


def test_a_renamed_size_a_loop_index_or_an_accumulator_is_never_the_divergence(tmp_path):
    """Real code (the annotated transformer's `h = num_heads`, llm.c's `B, T, V = logits.shape`,
    a FlashAttention port's `O = np.zeros_like(Q)`) was blamed: "your h differs from the
    reference's num_heads (largest difference 0)". A whole number or a constant fill
    names nothing; the first wrong array computed from them is the line."""
    path = write(tmp_path, "attn.py", SDPA_HEAD + """\
    d = Q.shape[-1]
    n_keys = K.shape[-2]
    acc = np.zeros_like(Q)
    for i in range(1):
        acc = acc + 0.0
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d) * (1.5 if n_keys > 2 else 1.0)
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V + acc[..., :V.shape[-1]] * 0, w
""")
    report = judge_file(path, "sdpa", find_divergence=True)
    assert report.verdict == "wrong-answer"
    assert report.divergence is not None and report.divergence["line"] == 10, report.divergence
    assert report.divergence["variable"] == "s"


def test_no_divergence_when_a_named_mistake_explains_everything(tmp_path):
    path = write(tmp_path, "attn.py", SDPA_HEAD + """\
    s = Q @ np.swapaxes(K, -1, -2)
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    return w @ V, w
""")
    code, report = run_json("run", path, "--problem", "sdpa")
    assert [d["id"] for d in report["diagnoses"]] == ["no-scale"] and "divergence" not in report


def test_a_hostile_candidate_under_trace_keeps_its_verdict(tmp_path):
    # It stops the tracer, recurses and makes a generator, and is wrong: the verdict is
    # what it is without the trace, and the divergence is whatever the trace could see.
    path = write(tmp_path, "attn.py", SDPA_HEAD + """\
    import sys
    sys.settrace(lambda *a: None)
    def down(n):
        return 0 if n == 0 else down(n - 1)
    down(300)
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]) * 1.5
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return sum(x for x in [w @ V]), w
""")
    plain = judge_file(path, "sdpa", find_divergence=False)
    traced = judge_file(path, "sdpa", find_divergence=True, trace=True)
    assert [c.verdict for c in plain.cases] == [c.verdict for c in traced.cases]
    assert traced.verdict == "wrong-answer"
    assert traced.divergence is None or 5 <= traced.divergence["line"] <= 15


def test_run_trace_shows_shapes_beside_the_reference_s_annotations(tmp_path):
    path = write(tmp_path, "mha.py", """\
    import numpy as np


    def multi_head_attention(Q, K, V, n_heads):
        B, L, E = Q.shape
        d_k = E // n_heads
        q = Q.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)
        k = K.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)
        v = V.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
        w = np.exp(s - s.max(-1, keepdims=True))
        w = w / w.sum(-1, keepdims=True)
        return (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    """)
    code, report = run_json("run", path, "--problem", "mha-batched", "--trace")
    assert code == 0
    rows = {r["name"]: r for r in report["trace"]["lines"]}
    assert rows["q"]["annotation"] == "(B, H, L, d_k)" and len(rows["q"]["shape"]) == 4
    assert rows["w"]["matches"] and rows["return"]["matches"]
    code, out, err = run_cli("run", path, "--problem", "mha-batched", "--trace", env={"COLUMNS": "200"})
    assert code == 0 and "line by line" in out and "H, L, d_k)" in out
