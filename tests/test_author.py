"""The author surface refuses what would silently turn a behaviour off: a misspelt
hook, a hook of the wrong type, an unknown draft key (mhajudge/author.py)."""

import shutil

import pytest

from conftest import ROOT, run_cli
from mhajudge import author


@pytest.fixture
def bank_copy(tmp_path):
    """A copy of the bank that a test may break, used through MHAJUDGE_BANK."""
    for part in ("problems", "reference"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def judge_with(bank, tmp_path, problem="softmax"):
    sol = tmp_path / "sol.py"
    sol.write_text((ROOT / "reference" / f"{problem}.py").read_text())
    return run_cli("run", sol, "--problem", problem, "--format", "json", env={"MHAJUDGE_BANK": str(bank)})


@pytest.mark.parametrize("module,line,words", [
    ("drivers", "CHECK = {}", "reference/drivers/softmax.py: CHECK: not a hook (did you mean CHECKS?)"),
    ("drivers", "def match_mistake_exactly(case, answer, mistake):\n    return False",
     "reference/drivers/softmax.py: match_mistake_exactly: not a hook (did you mean match_mistake_exact?)"),
    ("drivers", "Generators = {}", "Generators: not a hook (did you mean GENERATORS?)"),
    ("drivers", "CHECKS = [len]", "reference/drivers/softmax.py: CHECKS: must be a dict, not a list"),
    ("drivers", "def mistake_exception(case):\n    return None",
     "reference/drivers/softmax.py: mistake_exception: must be a function (case, mistake)"),
    ("mistakes", "MISTAKE = {}", "reference/mistakes/softmax.py: MISTAKE: not a hook (did you mean MISTAKES?)"),
    ("mistakes", "ACCEPTED = 3", "reference/mistakes/softmax.py: ACCEPTED: must be a dict, not a int"),
])
def test_a_misspelt_or_mistyped_hook_is_refused(bank_copy, tmp_path, module, line, words):
    path = bank_copy / "reference" / module / "softmax.py"
    path.write_text(path.read_text() + "\n\n" + line + "\n")
    code, out, err = judge_with(bank_copy, tmp_path)
    assert code == 2 and words in err, err
    assert "Traceback" not in err


def test_an_unknown_draft_key_is_refused(bank_copy, tmp_path):
    path = bank_copy / "reference" / "drivers" / "softmax.py"
    text = path.read_text()
    assert "def with_neg_inf(rng, params, dtype, index):" in text
    path.write_text(text.replace("def with_neg_inf(rng, params, dtype, index):",
                                 "def with_neg_inf(rng, params, dtype, index):\n"
                                 "    return {'args': _real(rng, params, dtype, index), 'expect': None}\n\n\n"
                                 "def _real(rng, params, dtype, index):"))
    code, out, err = judge_with(bank_copy, tmp_path)
    assert code == 2, err
    assert "reference/drivers/softmax.py: GENERATORS['with_neg_inf']" in err
    assert "unknown key 'expect' (did you mean 'expected'?)" in err


def test_the_bank_as_it_is_passes_the_check(bank_copy, tmp_path):
    code, out, err = judge_with(bank_copy, tmp_path)
    assert code == 0, err


def test_every_hook_is_documented():
    for name, hook in author.HOOKS.items():
        assert hook.doc.strip() and hook.module in ("drivers", "mistakes"), name
    assert "expected" in author.DRAFT_KEYS and "args" in author.DRAFT_KEYS
