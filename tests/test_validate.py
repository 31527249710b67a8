"""`mhajudge validate`: the whole bank is valid; a weak or broken spec is not."""

import shutil

import yaml

from conftest import ROOT, run_cli


def test_whole_bank_is_valid():
    code, out, err = run_cli("validate", timeout=900)
    assert code == 0, out[-4000:] + err
    assert "INVALID" not in out and " NO " not in out
    assert "problem x named mistake" in out


def make_bank(tmp_path, edit):
    """A copy of the sdpa problem in a bank of its own, with its spec edited."""
    (tmp_path / "problems").mkdir()
    shutil.copytree(ROOT / "reference", tmp_path / "reference")
    shutil.copy(ROOT / "problems" / "mistakes.yaml", tmp_path / "problems")
    spec = yaml.safe_load((ROOT / "problems" / "sdpa.yaml").read_text())
    edit(spec)
    path = tmp_path / "problems" / "sdpa.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_hidden_cases_that_let_a_mistake_through_are_an_error(tmp_path):
    def drop_masks(spec):
        spec["hidden"] = [g for g in spec["hidden"] if "mask" not in g["params"]["args"]]
    path = make_bank(tmp_path, drop_masks)
    code, out, err = run_cli("validate", path)
    assert code == 2
    assert "let mistake 'mask-inverted' through" in out
    assert "let mistake 'mask-after-softmax' through" in out


def test_a_mistake_without_code_is_an_error(tmp_path):
    path = make_bank(tmp_path, lambda spec: spec["mistakes"].append("gqa-tiled"))
    code, out, err = run_cli("validate", path)
    assert code == 2 and "'gqa-tiled' has no code" in out


def test_a_broken_field_is_reported_by_file_and_field(tmp_path):
    def bad_require(spec):
        spec["hidden"][2]["params"]["require"] = ["H % d == 0"]
    path = make_bank(tmp_path, bad_require)
    code, out, err = run_cli("validate", path)
    assert code == 2
    assert "problems/sdpa.yaml: hidden[2].params.require[0]: 'H % d == 0' is false for H=3, d=16" in out


def test_a_generic_mutant_the_hidden_cases_let_through_is_a_warning(tmp_path):
    # without large scores, a softmax that subtracts the row minimum (not the maximum) passes
    # (and unstable-softmax has no evidence of its own left, so it leaves the list too)
    def edit(spec):
        spec["hidden"] = [g for g in spec["hidden"] if g["name"] != "large scores"]
        spec["mistakes"] = [m for m in spec["mistakes"] if m != "unstable-softmax"]

    path = make_bank(tmp_path, edit)
    code, out, err = run_cli("validate", path)
    assert "warning:" in out and "max( -> min(" in out, out[-3000:]
    assert code == 0 and "sdpa: ok" in out, out[-3000:]  # a warning, not an error: the mutant may be equivalent


def test_the_bank_spec_leaves_no_generic_mutant_of_sdpa_alive():
    code, out, err = run_cli("validate", ROOT / "problems" / "sdpa.yaml")
    assert code == 0, out[-3000:]
    assert "generic mutants)" in out and "warning:" not in out
