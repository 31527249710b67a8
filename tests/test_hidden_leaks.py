"""What a hostile pass on grade's outputs found (2026-12-04), held closed.

- One file name of 250 undecodable bytes (escaped to 1,000 characters, too long for a
  folder) stopped every Gradescope results.json from being written.
- A hidden case's error size is |answer - expected|, and the candidate chooses its answer:
  it printed a hidden input's shape and first value to 11 digits.
- The "slower than the reference" note kept 0.1 ms of time summed over hidden cases
  (the speed totals themselves are cut to two figures).
- The divergence trace ("line 8 ... by a constant factor (x84.59)") ran on a hidden
  case, the factor being the candidate's to choose.
"""

from __future__ import annotations

import json
import math
import os

from conftest import SDPA_CORRECT, run_cli

# Right on the sample cases (two queries); on a hidden case, an answer off by a number
# that spells the case's shape and first input, so its error size would carry them out.
LEAK = "import numpy as np\n" + SDPA_CORRECT.replace(
    "    return w @ V, w",
    "    out = w @ V\n"
    "    if Q.shape[-2] != 2:\n"
    "        out = out.copy()\n"
    "        out.flat[0] += 1000 * (Q.ndim * 100 + Q.shape[-2] * 10 + Q.shape[-1]) + abs(Q.flat[0])\n"
    "    return out, w")
# Right on the sample cases; scaled by a factor spelling the head size on hidden ones.
SCALED = "import numpy as np\n" + SDPA_CORRECT.replace(
    "    e = np.exp(", "    s = s if Q.shape[-2] == 2 else s * (2 + 10 * Q.shape[-1])\n    e = np.exp(")
# Right everywhere, sleeping for a time that spells the head size on hidden cases only.
SLEEPS = "import numpy as np, time\n" + SDPA_CORRECT.replace(
    "    return w @ V, w", "    if Q.shape[-2] != 2:\n        time.sleep(0.001 * Q.shape[-1] + 0.0003)\n    return w @ V, w")


def _is_decade(x) -> bool:
    return x in (None, 0.0) or (x > 0 and math.isclose(math.log10(x), round(math.log10(x))))


def test_a_long_name_costs_no_other_student_their_results_folder(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    with open(os.path.join(os.fsencode(subs), b"\xff" * 250 + b".py"), "w") as f:
        f.write("import numpy as np\n" + SDPA_CORRECT)
    (subs / "aaa.py").write_text("import numpy as np\n" + SDPA_CORRECT)
    (subs / "zzz.py").write_text("import numpy as np\n" + SDPA_CORRECT.replace("/ np.sqrt(Q.shape[-1])", ""))
    out = tmp_path / "out"
    code, _, err = run_cli("grade", subs, "-p", "sdpa", "--format", "gradescope", "-o", out)
    assert code == 0, err
    folders = list(out.iterdir())
    assert len(folders) == 3 and all((f / "results.json").is_file() for f in folders)
    assert all(len(os.fsencode(f.name)) <= 255 for f in folders)
    scores = sorted(json.loads((f / "results.json").read_text())["score"] for f in folders)
    assert scores[0] < scores[1] == scores[2]


def _graded(tmp_path, name: str, text: str):
    """(exit code, the one submission's row, stderr, its file) of grading ``text`` alone."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / name).write_text(text)
    code, out, err = run_cli("grade", subs, "-p", "sdpa", "--format", "json", "--no-isolate")
    return code, json.loads(out)["submissions"][0], err, subs / name


def test_a_hidden_error_size_says_its_decade_only(tmp_path):
    code, row, err, leak = _graded(tmp_path, "leak.py", LEAK)
    hidden = [c["max_abs_error"] for c in row["cases"] if c["group"] == "hidden"]
    assert code == 0 and row["verdict"] == "wrong-answer" and hidden, err
    assert all(_is_decade(x) for x in hidden), hidden
    code, out, _ = run_cli("run", leak, "--hide", "--format", "json", "--no-isolate")
    assert all(_is_decade(c["max_abs_error"]) for c in json.loads(out)["cases"] if c["group"] == "hidden")
    code, out, _ = run_cli("run", leak, "--format", "json", "--no-isolate")  # not hidden: exact
    assert not all(_is_decade(c["max_abs_error"]) for c in json.loads(out)["cases"] if c["group"] == "hidden")


def test_no_trace_of_a_hidden_case_under_hide(tmp_path):
    code, row, err, scaled = _graded(tmp_path, "scaled.py", SCALED)
    assert code == 0 and row["verdict"] == "wrong-answer", err
    hidden = {c["name"] for c in row["cases"] if c["group"] == "hidden"}
    assert not row.get("divergence") or row["divergence"]["case"] not in hidden, row.get("divergence")
    assert "82" not in json.dumps(row.get("divergence"))  # the factor 2 + 10 * 8
    code, out, _ = run_cli("run", scaled, "--format", "json", "--no-isolate")  # shown: traced
    assert json.loads(out).get("divergence"), "the trace should still run where hidden cases are shown"


def test_the_slow_note_under_hide_says_no_more_than_the_rounded_totals(tmp_path):
    code, row, err, _ = _graded(tmp_path, "sleeps.py", SLEEPS)
    assert code == 0 and row["verdict"] == "accepted", err
    slow = [n for n in row["notes"] if "slower than the reference" in n]
    assert slow and " ms" not in slow[0] and "µs" not in slow[0], slow
    assert f"about {row['speed']['ratio']:g}x slower" in slow[0]
