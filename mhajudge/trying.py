"""``mhajudge try``: your own inputs, your answer beside the reference's.

The arguments come from a ``.npz`` file (read with ``allow_pickle=False``: arrays
only) or a ``.py`` file that sets variables named like the entry point's parameters
(``Q = np.random.randn(2, 4, 8)``). A ``.py`` file runs in a separate interpreter,
which hands back plain arrays through an ``.npz``; then the candidate runs in its
sandbox like any case, the reference in the judge, and the two answers are compared
with the problem's tolerances. Nothing hidden is involved.

A parameter that is a dict of arrays (generate's ``params``) is a dict in the ``.py``
file, and keys ``params/embed``, ``params/pos``, ... in an ``.npz``. A parameter that
is a function of the judge's (beam-search's ``step``) is given as the arrays of its
model: ``step = dict(embed=(V, D), W_h=(D, D), W_out=(D, V), bias=(V,))``, the
recurrent model of ``mhajudge/sandbox/models.py``, which the judge then builds and
answers the candidate's calls to, as in a case.

    from mhajudge.trying import try_inputs
    outcome = try_inputs("attn.py", "sdpa", "my_inputs.npz")
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import JudgeError

ARGS_TIME_S = 30.0
_WRITE_NPZ = """
import runpy, sys
import numpy as np
names = sys.argv[2].split(",")
found = runpy.run_path(sys.argv[1])
out = {}
for n in names:
    if n not in found:
        continue
    v = found[n]
    if isinstance(v, dict):  # a dict of arrays: one key each, name/key
        for k, item in v.items():
            out[f"{n}/{k}"] = np.asarray(item)
    elif callable(v):
        sys.exit(f"{n} is a function; the judge cannot take a function from you (see mhajudge try --help)")
    else:
        out[n] = np.asarray(v)
for k, a in out.items():
    if a.dtype.kind not in "biuf":
        sys.exit(f"{k} is not an array of numbers (got {type(a.flat[0]).__name__ if a.size else a.dtype} items)")
np.savez(sys.argv[3], **out)
"""
SEPARATOR = "/"  # an .npz key params/embed is item "embed" of the dict argument "params"


@dataclass
class Tried:
    problem: str
    fn: str
    args: dict              # {param: value}, as both received them
    got: dict | None        # the candidate's flat answer, or None
    expected: dict          # the reference's flat answer
    verdict: str            # accepted / wrong-answer / runtime-error / ...
    message: str


def load_args(path, params: list[str], shown=None) -> dict:
    """The arguments in ``path`` (.npz or .py), by parameter name; ``name/key`` entries
    of an .npz make the dict argument ``name``. ``shown``: the file named in errors."""
    import numpy as np

    path = Path(path)
    shown = shown or path
    if not path.is_file():
        raise JudgeError(f"no such file: {path}", hint="give a .npz of arrays or a .py that sets them")
    if path.suffix == ".py":
        with tempfile.TemporaryDirectory(prefix="mhajudge-try-") as tmp:
            out = Path(tmp) / "args.npz"
            try:
                proc = subprocess.run([sys.executable, "-I", "-c", _WRITE_NPZ, str(path.resolve()), ",".join(params),
                                       str(out)], capture_output=True, text=True, timeout=ARGS_TIME_S, cwd=tmp)
            except subprocess.TimeoutExpired:
                raise JudgeError(f"{path} took more than {ARGS_TIME_S:g} s to run") from None
            if proc.returncode != 0:
                last = (proc.stderr.strip().splitlines() or ["it exited with an error"])[-1]
                raise JudgeError(f"{path} failed: {last}", hint="it should set variables named like the parameters")
            return load_args(out, params, shown=path)
    if path.suffix != ".npz":
        raise JudgeError(f"{path}: give a .npz of arrays or a .py file that sets them")
    try:
        with np.load(path, allow_pickle=False) as data:
            found = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise JudgeError(f"{shown} is not a readable .npz of plain arrays: {exc}") from None
    out: dict = {}
    for key, v in found.items():
        v = v.item() if v.shape == () and v.dtype.kind in "biu" else v
        name, _, item = key.partition(SEPARATOR)
        if name not in params:
            continue
        if item:
            if name in out and not isinstance(out[name], dict):
                raise JudgeError(f"{shown} gives {name} both as an array and as a dict ({key})")
            out.setdefault(name, {})[item] = v
        elif isinstance(out.get(name), dict):
            raise JudgeError(f"{shown} gives {name} both as an array and as a dict")
        else:
            out[name] = v
    return out


def _how_to_give(problem, fn: str, missing: list[str]) -> str:
    """What to write for a missing parameter that the sample case fills with one of the
    judge's models (beam-search's step), or a dict of arrays (generate's params)."""
    from .cases import build
    from .sandbox.models import ARRAYS, is_marker

    try:
        sample = next(c for c in build(problem, groups="sample") if c.fn == fn)
    except Exception:  # noqa: BLE001 - only a hint
        return ""
    for name in missing:
        value = sample.args.get(name)
        if is_marker(value):
            kind = value["$model"]["kind"]
            shapes = ", ".join(f"{k}={tuple(value['$model'][k].shape)}" for k in ARRAYS[kind])
            return (f"; {name} is the judge's {kind} model, given by its arrays: {name} = dict({shapes}) "
                    "as in the sample case (see `mhajudge try --help`)")
        if isinstance(value, dict):
            return f"; {name} is a dict of arrays ({', '.join(value)}): a dict in a .py, {name}/KEY entries in a .npz"
    return ""


def _as_model(value):
    """A dict of exactly one model kind's arrays: that model, as the judge builds it in a case."""
    from .sandbox.models import ARRAYS

    if isinstance(value, dict):
        for kind, names in ARRAYS.items():
            if set(value) == set(names):
                from .author import model

                return model(kind, **value)
    return value


def try_inputs(file, problem_id: str | None, args_file, fn: str | None = None, isolate: bool | None = None) -> Tried:
    import os

    from .bank import reference_module
    from .cases import SECRET_VAR, run_reference, split_call
    from .check import check_answer
    from .judge import resolve_problem, verdict_for
    from .sandbox import isolation
    from .sandbox.runner import Limits, Sandbox

    problem = resolve_problem(Path(file), problem_id)
    names = [ep.name for ep in problem.entry_points]
    fn = fn or names[0]
    if fn not in names:
        raise JudgeError(f"{problem.id} has no entry point {fn!r}", hint=f"its entry points: {', '.join(names)}")
    ep = problem.entry(fn)
    args = {k: _as_model(v) for k, v in load_args(args_file, [p.split("=")[0] for p in ep.params]).items()}
    missing = [p for p in ep.required if p not in args]
    if missing:
        raise JudgeError(f"{args_file} does not set {', '.join(missing)}",
                         hint=f"the call is {ep.signature}{_how_to_give(problem, fn, missing)}")
    inputs = split_call(problem, fn, args)
    program = {"kind": "call", "fn": fn, "returns": ep.returns, "memory": False}
    reference = reference_module(problem.reference)
    mistakes = reference_module(problem.reference, "mistakes")
    try:
        expected = run_reference(getattr(reference, fn), program, inputs)
    except Exception as exc:  # noqa: BLE001 - the user's inputs may be ones the reference refuses
        raise JudgeError(f"the reference refuses these inputs: {type(exc).__name__}: {exc}",
                         hint=f"the call is {ep.signature}; see `mhajudge show {problem.id}`") from None
    # The conventions the problem also accepts (say, uniform weights on a fully masked row),
    # as every case of `run` has them: `try` must not fail what `run` accepts. One that
    # refuses these inputs is left out.
    accepted = []
    for alt in getattr(mistakes, "ACCEPTED", {}).get(fn, []):
        try:
            accepted.append(run_reference(alt, program, inputs))
        except Exception:  # noqa: BLE001
            pass
    isolate = isolation.resolve(isolate, secret=bool(os.environ.get(SECRET_VAR)), grading=False)
    entry_points = [{"name": e.name, "params": e.params} for e in problem.entry_points]
    from .track import read_track_source, sandbox_options

    with Sandbox(Path(file), entry_points, limits=Limits(), isolate=isolate,
                 **sandbox_options(problem, read_track_source(file))) as box:
        loaded = box.wait_loaded()
        if not loaded.ok:
            return Tried(problem.id, fn, args, None, expected, loaded.verdict, loaded.message)
        if fn in loaded.missing:
            return Tried(problem.id, fn, args, None, expected, "load-error", loaded.missing[fn])
        run = box.run(0, program, inputs, problem.time_limit)  # the wire form: the child builds any model
    case = _Case(fn=fn, expect="value", expected=[expected] + accepted, check=None,
                 tolerance=problem.tolerance.get(_dtype(args), problem.tolerance["float64"]))
    verdict, message, _, _ = verdict_for(case, run)
    if verdict == "accepted" and accepted and not check_answer(run.answer, [expected], case.tolerance["atol"],
                                                                case.tolerance["rtol"]).ok:
        # Shown beside the convention it follows, so the difference printed is the real one.
        expected = next((alt for alt in accepted if check_answer(run.answer, [alt], case.tolerance["atol"],
                                                                  case.tolerance["rtol"]).ok), expected)
        message = ("the reference shown is the other convention the problem accepts "
                   f"(see `mhajudge show {problem.id}`)")
    return Tried(problem.id, fn, args, run.answer, expected, verdict, message)


@dataclass
class _Case:
    """What the comparison needs of a case (verdict_for reads these fields)."""
    fn: str
    expect: str
    expected: list
    check: object
    tolerance: dict


def _dtype(args: dict) -> str:
    floats = [getattr(v, "dtype", None) for v in args.values()]
    return "float32" if any(d is not None and str(d) == "float32" for d in floats) else "float64"


def _shown(value, np) -> str:
    """An argument as the user wrote it: an array in full, a dict of arrays by shapes, the
    judge's model by its kind and the shapes of its arrays."""
    from .sandbox.models import is_marker

    if is_marker(value):
        spec = value["$model"]
        return f"the judge's {spec['kind']} model: " + ", ".join(
            f"{k} {tuple(np.shape(a))}" for k, a in spec.items() if k != "kind")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {tuple(np.shape(a))}" for k, a in value.items()) + "}"
    return np.array2string(value, prefix="      ") if isinstance(value, np.ndarray) else repr(value)


def render(tried: Tried, console) -> None:
    import numpy as np
    from rich.text import Text

    from .render import STYLE

    with np.printoptions(precision=4, suppress=True, linewidth=100):
        console.print(Text(f"{tried.problem}: {tried.fn} on your inputs", "bold"))
        for k, v in tried.args.items():
            console.print(Text(f"  {k} = " + _shown(v, np)))
        for name, want in tried.expected.items():
            console.print(Text(f"  reference {name} =\n{np.array2string(want)}"))
            got = (tried.got or {}).get(name)
            if got is not None:
                console.print(Text(f"  yours {name} =\n{np.array2string(got)}"))
                if got.shape == want.shape:
                    console.print(Text(f"  difference (yours - reference) =\n"
                                       f"{np.array2string(got.astype(float) - want.astype(float))}"))
    line = Text(tried.verdict.upper(), STYLE.get(tried.verdict, ""))
    if tried.message:
        line.append("  " + tried.message)
    console.print(line)
