"""``mhajudge try``: your own inputs, your answer beside the reference's.

The arguments come from a ``.npz`` file (read with ``allow_pickle=False``: arrays
only) or a ``.py`` file that sets variables named like the entry point's parameters
(``Q = np.random.randn(2, 4, 8)``). A ``.py`` file runs in a separate interpreter,
which hands back plain arrays through an ``.npz``; then the candidate runs in its
sandbox like any case, the reference in the judge, and the two answers are compared
with the problem's tolerances. Nothing hidden is involved.

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
np.savez(sys.argv[3], **{n: np.asarray(found[n]) for n in names if n in found})
"""


@dataclass
class Tried:
    problem: str
    fn: str
    args: dict              # {param: value}, as both received them
    got: dict | None        # the candidate's flat answer, or None
    expected: dict          # the reference's flat answer
    verdict: str            # accepted / wrong-answer / runtime-error / ...
    message: str


def load_args(path, params: list[str]) -> dict:
    """The arguments in ``path`` (.npz or .py), by parameter name."""
    import numpy as np

    path = Path(path)
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
            return load_args(out, params)
    if path.suffix != ".npz":
        raise JudgeError(f"{path}: give a .npz of arrays or a .py file that sets them")
    try:
        with np.load(path, allow_pickle=False) as data:
            found = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise JudgeError(f"{path} is not a readable .npz of plain arrays: {exc}") from None
    return {k: (v.item() if v.shape == () and v.dtype.kind in "biu" else v) for k, v in found.items() if k in params}


def try_inputs(file, problem_id: str | None, args_file, fn: str | None = None, isolate: bool | None = None) -> Tried:
    import os

    from .bank import reference_module
    from .cases import SECRET_VAR, materialize, run_reference, split_call
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
    args = load_args(args_file, [p.split("=")[0] for p in ep.params])
    missing = [p for p in ep.required if p not in args]
    if missing:
        raise JudgeError(f"{args_file} does not set {', '.join(missing)}", hint=f"the call is {ep.signature}")
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
        run = box.run(0, program, materialize(inputs), problem.time_limit)
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


def render(tried: Tried, console) -> None:
    import numpy as np
    from rich.text import Text

    from .render import STYLE

    with np.printoptions(precision=4, suppress=True, linewidth=100):
        console.print(Text(f"{tried.problem}: {tried.fn} on your inputs", "bold"))
        for k, v in tried.args.items():
            console.print(Text(f"  {k} = " + (np.array2string(v, prefix="      ") if isinstance(v, np.ndarray) else repr(v))))
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
