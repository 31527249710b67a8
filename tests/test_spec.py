"""The spec loader reports errors by file and field, never with a traceback."""

import pytest
import yaml

from conftest import ROOT, run_cli
from mhajudge.errors import SpecError
from mhajudge.spec import load

BASE = yaml.safe_load((ROOT / "problems" / "sdpa.yaml").read_text())


def write(tmp_path, data, name="sdpa.yaml"):
    folder = tmp_path / "problems"
    folder.mkdir(exist_ok=True)
    (folder / "mistakes.yaml").write_text((ROOT / "problems" / "mistakes.yaml").read_text())  # the catalogue beside it
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("edit,message", [
    (lambda d: d.pop("title"), "problems/sdpa.yaml: title: is required"),
    (lambda d: d.update(difficulty="trivial"), "problems/sdpa.yaml: difficulty: must be one of easy, medium, hard"),
    (lambda d: d.update(colour="blue"), "problems/sdpa.yaml: colour: unknown field"),
    (lambda d: d["hidden"][1].update(count=0), "problems/sdpa.yaml: hidden[1].count: must be at least 1"),
    (lambda d: d["hidden"][1].update(call="attention"), "problems/sdpa.yaml: hidden[1].call: names no entry point"),
    (lambda d: d["entry_points"][0].update(params=["Q", "K", "V", "mask=None", "1x"]),
     "problems/sdpa.yaml: entry_points[0].params[4]: '1x' is not `name` or `name=default`"),
    (lambda d: d["samples"][0]["args"].update(W=[1.0]), "problems/sdpa.yaml: samples[0].args.W: is not a parameter"),
    (lambda d: d["mistakes"].append("no-such-mistake"), "problems/sdpa.yaml: mistakes[9]: 'no-such-mistake' is not in"),
    (lambda d: d["hidden"][0].update(dtype="float16"), "problems/sdpa.yaml: hidden[0].dtype: must be one of"),
    (lambda d: d["hidden"][0].update(weight=-1.0), "problems/sdpa.yaml: hidden[0].weight: must be a number of at least 0"),
])
def test_field_errors(tmp_path, edit, message):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    edit(data)
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, data))
    assert message in str(info.value)


def test_yaml_syntax_error_names_the_line(tmp_path):
    with pytest.raises(SpecError) as info:
        load(write(tmp_path, "id: sdpa\ntitle: [unclosed\n"))
    assert "problems/sdpa.yaml: not valid YAML at line" in str(info.value)


def test_generator_errors_name_the_field():
    from mhajudge import bank
    from mhajudge.cases import build

    problem = bank.load_problem("sdpa")
    problem = type(problem)(**{**problem.__dict__})
    group = problem.hidden[0]
    problem.hidden = [type(group)(**{**group.__dict__, "params": {"dims": {"L": 4}, "args": {"Q": "normal(L, Lx)"}}})]
    with pytest.raises(SpecError) as info:
        build(problem)
    assert "hidden[0].params.args.Q: unknown dimension 'Lx'" in str(info.value)


def test_cli_unknown_problem_suggests_the_closest(tmp_path):
    code, out, err = run_cli("show", "spda")
    assert code == 2 and "did you mean `sdpa`" in err and "Traceback" not in err


def test_omit_leaves_optional_arguments_out_of_the_call(tmp_path):
    from mhajudge import bank
    from mhajudge.cases import build

    problem = bank.load_problem("sampling")
    case = next(c for c in build(problem) if c.name == "every argument at its default but the seed")
    assert "temperature" not in case.inputs["kwargs"] and "temperature" not in case.args
    assert all(set(v) == {"seed"} for v in case.inputs["vary"])


def test_omit_refuses_a_required_parameter(tmp_path):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    data["hidden"][1]["omit"] = ["Q"]
    with pytest.raises(SpecError, match=r"hidden\[1\]\.omit\[0\]: 'Q' is not an optional parameter"):
        load(write(tmp_path, data))


def test_an_outside_spec_is_named_by_its_whole_path_and_the_banks_own_as_problems_id(tmp_path):
    """`validate /tmp/sb/broken.yaml` said `sb/broken.yaml: id: ...` (the path cut to its last
    two parts); a spec of the bank is still `problems/ID.yaml`."""
    from conftest import ROOT, run_cli

    broken = tmp_path / "deep" / "broken.yaml"
    broken.parent.mkdir()
    broken.write_text("id: 5\n")
    code, out, err = run_cli("validate", broken)
    assert code == 2 and f"{broken}: id: must be a str" in " ".join((out + err).split()), out + err
    from mhajudge.spec import _display

    assert _display(ROOT / "problems" / "sdpa.yaml") == "problems/sdpa.yaml"
