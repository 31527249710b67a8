"""The PyTorch track (../shared/PROBLEMS.md, "The PyTorch track"), end to end.

- which files are on it (:mod:`mhajudge.track`), as a property;
- every road to a banned torch function is refused, and ordinary tensor code is not
  (``tests/torch_roads.py``, one process);
- a right torch solution and a torch version of every named mistake of every problem,
  judged through the real CLI (``grade``, one run per problem; the files come from the
  table in ``tests/torch_kit.py``): accepted with no diagnosis, or diagnosed with the
  mistake's id;
- hostile return values (tensors with grad, views, subclasses that override
  ``numpy``/``__array__``, meta, sparse, complex, bfloat16), one ``grade`` run;
- the judge itself never imports torch for a NumPy file, nor for ``--help``/``list``;
- without torch in the candidate's view, a torch file gets a load-error saying how
  to install it.
"""

import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT, run_cli
from mhajudge import bank
from mhajudge.track import banned_calls, banned_modules, track_of

import torch_kit

pytest.importorskip("torch")


# -- which track --------------------------------------------------------------------

@pytest.mark.parametrize("text, track", [
    ("import torch\n", "torch"),
    ("import torch.nn.functional as F\n", "torch"),
    ("from torch import nn\n", "torch"),
    ("def f():\n    import torch\n", "torch"),
    ("# mhajudge: sdpa torch\nimport numpy as np\n", "torch"),
    ("# mhajudge: sdpa\nimport numpy as np\n", "numpy"),
    ("import numpy as np  # not torch\nx = 'torch'\n", "numpy"),
    ("import torchvision\n", "numpy"),           # another package: still banned as ever
    ("m = __import__('torch')\n", "numpy"),     # a built import does not change the track: torch stays banned
    ("import torch\ndef f(:\n", "torch"),       # a syntax error: read from the import line
    ("", "numpy"),
])
def test_track_of(text, track):
    assert track_of(text) == track


NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n != "torch")


@settings(max_examples=60, deadline=None)
@given(st.lists(NAMES, min_size=0, max_size=5), st.booleans(), st.sampled_from(["", "numpy", "torch"]))
def test_track_is_the_import_or_the_header(modules, with_torch, header):
    """Property: a file is on the torch track exactly when its header says so or, with no
    track in the header, when it imports torch; other imports never matter."""
    lines = [f"# mhajudge: sdpa {header}".rstrip()] + [f"import {m}" for m in modules]
    if with_torch:
        lines.append("import torch")
    expected = header or ("torch" if with_torch else "numpy")
    assert track_of("\n".join(lines) + "\n") == expected


def test_torch_is_unbanned_only_on_its_track():
    problem = bank.load_problem("softmax")
    assert "torch" in banned_modules(problem, "numpy") and banned_calls(problem, "numpy") == []
    assert "torch" not in banned_modules(problem, "torch")
    assert {"jax", "tensorflow", "scipy", "mhajudge"} <= set(banned_modules(problem, "torch"))
    calls = banned_calls(problem, "torch")
    assert "torch.nn.functional.scaled_dot_product_attention" in calls and "torch.nn.functional.softmax" in calls


def test_a_misspelt_torch_forbidden_name_is_refused(tmp_path):
    from mhajudge.errors import SpecError
    from mhajudge.spec import load

    text = (ROOT / "problems" / "softmax.yaml").read_text().replace("torch.Tensor.softmax", "Tensor softmax")
    (tmp_path / "mistakes.yaml").write_text((ROOT / "problems" / "mistakes.yaml").read_text())
    (tmp_path / "softmax.yaml").write_text(text)
    with pytest.raises(SpecError, match=r"torch_forbidden\[2\].*not a dotted torch name"):
        load(tmp_path / "softmax.yaml")


# -- the bans ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def roads():
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "torch_roads.py")], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_every_road_to_a_banned_function_is_refused(roads):
    assert len(roads["roads"]) >= 40
    open_roads = {k: v for k, v in roads["roads"].items() if v != "refused"}
    assert not open_roads, open_roads


def test_ordinary_tensor_code_is_not_refused(roads):
    refused = {k: v for k, v in roads["allowed"].items() if v != "allowed"}
    assert not refused, refused


# -- every problem, right and with each named mistake ----------------------------------------

def _grade(folder, problem):
    code, out, err = run_cli("grade", folder, "--problem", problem, "--format", "json", timeout=1200)
    assert out.strip(), f"grade printed nothing (exit {code}):\n{err[-3000:]}"
    return {s["path"].rsplit("/", 1)[-1].removesuffix(".py"): s for s in json.loads(out)["submissions"]}


@pytest.mark.parametrize("problem_id", sorted(p.id for p in bank.load_all()))
def test_torch_solution_and_each_named_mistake(problem_id, tmp_path):
    problem = bank.load_problem(problem_id)
    (tmp_path / "right.py").write_text(torch_kit.source(problem_id))
    mistakes = [m["id"] for m in problem.mistakes]
    for m in mistakes:
        (tmp_path / f"{m}.py").write_text(torch_kit.source(problem_id, m))
    got = _grade(tmp_path, problem_id)
    right = got["right"]
    assert right["verdict"] == "accepted" and right["diagnoses"] == [], right["cases"]
    assert right["track"] == "torch"
    for m in mistakes:
        report = got[m]
        assert report["verdict"] == "wrong-answer", (m, report["cases"])
        assert m in {d["id"] for d in report["diagnoses"]}, (m, report["diagnoses"], report["cases"][:3])


# -- hostile return values -------------------------------------------------------------------

HEAD = "# mhajudge: sdpa\nimport math\nimport torch\n\n\ndef attend(Q, K, V, mask=None):\n" + textwrap.indent(
    textwrap.dedent("""
    s = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])
    if mask is not None:
        s = s.masked_fill(mask == 0, -1e9)
    e = torch.exp(s - s.amax(-1, keepdim=True))
    w = e / e.sum(-1, keepdim=True)
    return w @ V, w
    """), "    ") + "\n"

HOSTILE = {
    # name: (body of scaled_dot_product_attention, expected verdict, words the first failure says)
    "grad": ("Q = Q.clone().requires_grad_()\nreturn attend(Q, K, V, mask)", "accepted", ""),
    "views": ("o, w = attend(Q, K, V, mask)\nreturn o.transpose(-2, -1).contiguous().transpose(-2, -1), "
              "w.expand(2, *w.shape)[0]", "accepted", ""),
    "numpy_out": ("o, w = attend(Q, K, V, mask)\nreturn o.numpy(), w.tolist()", "accepted", ""),
    "subclass": ("class Liar(torch.Tensor):\n"
                 "    def numpy(self, *a, **k):\n        raise SystemExit(3)\n"
                 "    def __array__(self, *a, **k):\n        return __import__('numpy').zeros(1)\n"
                 "    def detach(self):\n        raise SystemExit(4)\n"
                 "    @classmethod\n    def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
                 "        if func.__name__ in ('numpy', 'detach', '__array__', 'contiguous'):\n"
                 "            raise SystemExit(5)\n"
                 "        return super().__torch_function__(func, types, args, kwargs or {})\n"
                 "o, w = attend(Q, K, V, mask)\nreturn o.as_subclass(Liar), w.as_subclass(Liar)", "accepted", ""),
    "meta": ("o, w = attend(Q, K, V, mask)\nreturn o.to('meta'), w", "wrong-answer", "device 'meta'"),
    "sparse": ("o, w = attend(Q, K, V, mask)\nreturn o.to_sparse(), w", "wrong-answer", "layout"),
    "complex": ("o, w = attend(Q, K, V, mask)\nreturn o.to(torch.complex128), w", "wrong-answer", "complex"),
    "bfloat16": ("o, w = attend(Q, K, V, mask)\nreturn o.to(torch.bfloat16), w", "wrong-answer", "bfloat16"),
    "caught_ban": ("try:\n    torch.nn.functional.scaled_dot_product_attention(Q, K, V)\nexcept Exception:\n"
                   "    pass\nreturn attend(Q, K, V, mask)", "forbidden", "scaled_dot_product_attention"),
    "ban_at_import": (None, "forbidden", "scaled_dot_product_attention"),
    # isolated (grade): torch and what it needs are in the view, no other package is
    "other_package": ("import yaml\nreturn attend(Q, K, V, mask)", "runtime-error", "No module named 'yaml'"),
}


def test_hostile_return_values(tmp_path):
    for name, (body, _, _) in HOSTILE.items():
        if body is None:  # the banned call at import time, its error swallowed
            text = HEAD + ("try:\n    torch.nn.functional.scaled_dot_product_attention(*[torch.ones(1, 2)] * 3)\n"
                           "except Exception:\n    pass\n\n\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
                           "    return attend(Q, K, V, mask)\n")
        else:
            text = HEAD + "def scaled_dot_product_attention(Q, K, V, mask=None):\n" + textwrap.indent(body, "    ") + "\n"
        (tmp_path / f"{name}.py").write_text(text)
    # and a NumPy file that reaches for torch by a built name: torch stays banned for it
    (tmp_path / "numpy_builds_torch.py").write_text(
        "# mhajudge: sdpa\nimport numpy as np\n\n\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
        "    t = __import__('to' + 'rch')\n    return Q, Q\n")
    got = _grade(tmp_path, "sdpa")
    for name, (_, verdict, words) in HOSTILE.items():
        report = got[name]
        assert report["verdict"] == verdict, (name, report["cases"][:2])
        if words:
            first = next(c for c in report["cases"] if c["verdict"] != "accepted")
            assert words in first["message"], (name, first)
    assert got["numpy_builds_torch"]["verdict"] == "forbidden"
    assert got["numpy_builds_torch"]["track"] == "numpy"


# -- torch stays out of the judge -------------------------------------------------------------

PROBE = """
import sys
sys.argv = ["mhajudge"] + ARGS
from mhajudge.cli import command_line as main
try:
    main()
except SystemExit as exc:
    print(f"EXIT {exc.code}", file=sys.stderr)
print("TORCH-LOADED" if "torch" in sys.modules else "TORCH-ABSENT", file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["list"], ["show", "sdpa"],
                                  ["run", str(ROOT / "reference" / "sdpa.py"), "--problem", "sdpa", "--format", "json"]])
def test_the_judge_never_imports_torch_itself(args):
    proc = subprocess.run([sys.executable, "-c", PROBE.replace("ARGS", repr(args))],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "TORCH-ABSENT" in proc.stderr, proc.stderr[-2000:]
    assert "EXIT 2" not in proc.stderr and "No such command" not in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout.strip(), "the command printed nothing"


def test_torch_file_judged_without_torch_in_the_judge():
    """A torch file: torch is imported in the candidate's child only."""
    args = ["run", str(ROOT / "reference" / "solutions" / "sdpa" / "torch_annotated_transformer.py"),
            "--format", "json"]
    proc = subprocess.run([sys.executable, "-c", PROBE.replace("ARGS", repr(args))],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "TORCH-ABSENT" in proc.stderr, proc.stderr[-2000:]
    assert proc.stdout.strip(), proc.stderr[-2000:]
    assert json.loads(proc.stdout)["verdict"] == "accepted"


def test_without_torch_a_torch_file_gets_a_load_error_saying_how_to_install(monkeypatch):
    from mhajudge import track
    from mhajudge.sandbox import isolation
    from mhajudge.sandbox.runner import Limits, Sandbox

    if isolation.bwrap_problem():
        pytest.skip(isolation.bwrap_problem())
    monkeypatch.setattr(track, "torch_folders", lambda: ())  # the isolated view then has no torch
    entry = [{"name": "softmax", "params": ["x", "axis=-1"]}]
    with Sandbox(ROOT / "x.py", entry, ["jax"], Limits(), isolate=True, source="import torch\n",
                 track="torch", torch_forbidden=[]) as box:
        loaded = box.wait_loaded()
    assert not loaded.ok and loaded.verdict == "load-error"
    assert "pip install 'mhajudge[torch]'" in loaded.message


def test_validate_names_torch_forbidden_that_torch_does_not_have():
    from mhajudge.track import unknown_torch_names

    names = ["torch.softmax", "torch.nn.functional.sofmax", "torch.ops.aten._scaled_dot_product_*",
             "torch.nn.Transformer*", "torch.autograd", "torch.Tensor.backward", "torch.ops.aten.no_such_op"]
    assert unknown_torch_names(names) == ["torch.nn.functional.sofmax", "torch.ops.aten.no_such_op"]
    every = {n for p in bank.load_all() for n in banned_calls(p, "torch")}
    assert unknown_torch_names(sorted(every)) == []   # the bank's own names all exist


def test_new_torch_writes_a_torch_starter_on_the_torch_track(tmp_path):
    code, out, err = run_cli("new", "gqa", tmp_path / "g.py", "--torch")
    assert code == 0, err
    text = (tmp_path / "g.py").read_text()
    assert text.startswith("# mhajudge: gqa torch\n") and "import torch" in text and "numpy" not in text
    assert track_of(text) == "torch"
    assert "def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):" in text
    code, out, err = run_cli("run", tmp_path / "g.py", "--format", "json")
    report = json.loads(out)
    assert report["track"] == "torch" and report["verdict"] == "runtime-error"   # NotImplementedError
    assert "NotImplementedError" in report["cases"][0]["message"]


def test_show_gives_both_signatures():
    code, out, err = run_cli("show", "softmax", env={"COLUMNS": "120"})
    assert code == 0, err
    assert "import numpy as np" in out and "import torch" in out
    assert out.count("def softmax(x, axis=-1)") == 2
    assert "torch.nn.functional.softmax" in out   # what the torch track forbids here


# -- the conversion, as properties (in this process, without the bans) ------------------------

def _conversion():
    import importlib.util

    import numpy
    import torch

    spec = importlib.util.spec_from_file_location("torch_track_conv", ROOT / "mhajudge" / "sandbox" / "torch_track.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.torch, module.np = torch, numpy   # what setup() does, minus the bans
    module._capture()
    return module


from hypothesis.extra import numpy as hnp  # noqa: E402

ARRAYS = hnp.arrays(st.sampled_from(["float64", "float32", "int32", "int64", "bool", "uint8"]),
                    hnp.array_shapes(min_dims=0, max_dims=4, max_side=4),
                    )


@settings(max_examples=80, deadline=None)
@given(ARRAYS, st.sampled_from(["plain", "transposed", "expanded", "grad", "negated-view"]))
def test_arrays_survive_the_round_trip(arr, form):
    """Property: an input array handed in as a tensor and handed back (as the candidate
    returns it, as a view, with grad) comes out as a plain ndarray of the same values."""
    import numpy as np
    import torch

    conv = _conversion()
    t = conv.to_torch(arr)
    assert isinstance(t, torch.Tensor) and tuple(t.shape) == arr.shape
    expect = arr.astype(np.int64) if arr.dtype.kind in "iu" else arr
    if form == "transposed" and t.dim() >= 2:
        t, expect = t.transpose(0, 1), np.swapaxes(expect, 0, 1)
    elif form == "expanded":
        t, expect = t.unsqueeze(0).expand(2, *t.shape), np.broadcast_to(expect, (2, *expect.shape))
    elif form == "grad" and t.is_floating_point():
        t = t.clone().requires_grad_()
    elif form == "negated-view" and t.is_floating_point():
        t, expect = torch._neg_view(t), -expect
    out = conv.to_numpy((t, [t], {"k": t}), AssertionError)
    for got in (out[0], out[1][0], out[2]["k"]):
        assert type(got) is np.ndarray and got.shape == expect.shape and got.dtype == expect.dtype
        np.testing.assert_array_equal(got, expect)
        assert got.flags.writeable and not np.shares_memory(got, arr)   # the judge's own copy


def test_generators_and_masks_are_handed_in_as_torch_expects():
    import numpy as np
    import torch

    conv = _conversion()
    inputs = {"args": [np.ones((2, 2)), np.array([[1.0, 0.0], [1.0, 1.0]])], "kwargs": {"rng": {"$rng": 7}},
              "vary": [{"seed": 3, "mask": np.array([0, 1])}]}
    got = conv.call_inputs(inputs, ["x", "mask=None", "rng=None"])
    assert got["args"][0].dtype == torch.float64
    assert got["args"][1].dtype == torch.bool and got["args"][1].tolist() == [[True, False], [True, True]]
    assert got["vary"][0]["mask"].dtype == torch.bool and got["vary"][0]["seed"] == 3
    g = got["kwargs"]["rng"]
    assert isinstance(g, torch.Generator)
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=torch.Generator().manual_seed(7)))
    not_a_mask = conv.call_inputs({"args": [np.ones(2), np.array([0.5, 1.0])]}, ["x", "mask=None"])
    assert not_a_mask["args"][1].dtype == torch.float64   # only a 0/1 array is a mask
