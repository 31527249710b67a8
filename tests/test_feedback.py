"""Feedback that teaches: shape hints, NaN positions, heatmaps, speed notes, --perf."""


import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import run_cli, run_json
from mhajudge.check import compare_leaf
from mhajudge.hints import shape_hint
from mhajudge.perf import fit_exponent


@pytest.mark.parametrize("got,want,words", [
    ((2, 5, 2, 4), (2, 5, 8), "merge the heads"),
    ((2, 2, 5, 4), (2, 5, 8), "heads were not merged back"),
    ((2, 3, 5), (2, 5, 3), "last two axes are swapped"),
    ((1, 5, 8), (5, 8), "extra leading axis of size 1"),
    ((5, 8), (2, 5, 8), "leading (batch) axis is missing"),
    ((4, 10), (5, 8), "wrong shape: a reshape"),
])
def test_shape_hints(got, want, words):
    assert words in shape_hint(got, want)


def test_shape_message_names_both_shapes_and_the_hint():
    o = compare_leaf("output", np.zeros((2, 2, 5, 4)), np.zeros((2, 5, 8)), 1e-6, 1e-5)
    assert not o.ok and "got (2, 2, 5, 4), expected (2, 5, 8)" in o.message and "not merged back" in o.message


def test_nan_message_says_where_it_first_appears():
    got = np.ones((3, 4))
    got[1, 2] = np.nan
    o = compare_leaf("weights", got, np.ones((3, 4)), 1e-6, 1e-5)
    assert not o.ok and "the first (NaN) at [1, 2]" in o.message


@given(st.floats(-1e3, 1e3), st.floats(0.5, 4.0))
def test_fit_exponent_recovers_a_power_law(scale, power):
    sizes = [32, 64, 128, 256]
    times = [np.exp(scale / 1e3) * s ** power for s in sizes]
    assert fit_exponent(sizes, times) == pytest.approx(power, abs=1e-9)


def test_failing_weights_get_side_by_side_heatmaps(tmp_path):
    path = tmp_path / "after.py"
    path.write_text("# mhajudge: sdpa\nimport numpy as np\n"
                    "def scaled_dot_product_attention(Q, K, V, mask=None):\n"
                    "    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])\n"
                    "    w = np.exp(s - s.max(-1, keepdims=True)); w /= w.sum(-1, keepdims=True)\n"
                    "    if mask is not None:\n        w = w * mask\n"
                    "    return w @ V, w\n")
    code, out, err = run_cli("run", path)
    assert code == 1
    assert "expected" in out and "yours" in out and "yours - expected" in out
    assert "·" in out  # masked cells are marked
    assert "diagnosis: mask-after-softmax" in out
    code, out, err = run_cli("run", path, "--hide")
    assert "yours - expected" in out  # sample cases are shown in full even with --hide


def test_speed_is_reported_against_the_reference():
    code, report = run_json("run", "examples/sdpa_correct.py")
    speed = report["speed"]
    assert speed["time_s"] > 0 and speed["reference_time_s"] > 0
    assert speed["ratio"] == pytest.approx(speed["time_s"] / speed["reference_time_s"], rel=0.02)


def test_slow_note_when_far_slower_than_the_reference():
    from mhajudge.judge import _speed
    from mhajudge.results import CaseResult, Report

    class Case:
        ref_time_s = 0.001

    r = Report("sdpa", "x.py", cases=[CaseResult("a", "hidden", "accepted", time_s=0.05, case=Case())])
    _speed(r)
    assert r.speed["ratio"] == pytest.approx(50) and "slower than the reference" in r.notes[0]
    r = Report("sdpa", "x.py", cases=[CaseResult("a", "hidden", "accepted", time_s=0.002, case=Case())])
    _speed(r)
    assert r.notes == []


def test_perf_reports_a_fitted_exponent():
    code, report = run_json("run", "examples/sdpa_correct.py", "--perf")
    perf = report["perf"]
    assert code == 0 and perf["dim"] == "L" and len(perf["time_s"]) == len(perf["sizes"]) >= 3
    assert all(t > 0 for t in perf["time_s"]) and isinstance(perf["exponent"], float)
    code, out, err = run_cli("run", "examples/sdpa_correct.py", "--perf")
    assert "fitted exponent" in out


def test_perf_on_a_problem_without_perf_section_is_a_clear_error(tmp_path):
    from mhajudge import bank

    without = [p for p in bank.load_all() if p.perf is None]
    if not without:
        pytest.skip("every problem has a perf section")
    p = without[0]
    code, out, err = run_cli("new", p.id, tmp_path / "x.py")
    code, out, err = run_cli("run", tmp_path / "x.py", "--perf")
    assert code == 2 and "no perf section" in err and "Traceback" not in err
