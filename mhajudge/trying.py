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

from dataclasses import dataclass
from pathlib import Path

from .errors import JudgeError

ARGS_BYTES = 1 << 30  # the arrays an .npz may hold, in all (the judge holds them, and so does the child)
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


def load_args(path, params: list[str], shown=None, isolate: bool | None = None) -> dict:
    """The arguments in ``path`` (.npz, .py, or a folder of .npy files), by parameter name;
    ``name/key`` entries of an .npz make the dict argument ``name``. ``shown``: the file
    named in errors. A .py file runs as candidate code does (:mod:`.sandbox.script`),
    isolated as ``isolate`` says (resolved as for the candidate)."""
    path = Path(path)
    shown = shown or path
    if path.is_dir():
        return _folder_args(path, params)
    if not path.is_file():
        raise JudgeError(f"no such file: {path}", hint="give a .npz of arrays or a .py that sets them")
    if path.suffix == ".py":
        import io
        import os

        from .cases import SECRET_VAR
        from .sandbox import isolation
        from .sandbox.script import ScriptError, run_script
        from .source import SourceError, read_source

        try:
            source = read_source(path)
        except SourceError as exc:
            raise JudgeError(str(exc)) from None
        isolate = isolation.resolve(isolate, secret=bool(os.environ.get(SECRET_VAR)), grading=False)
        try:
            data = run_script(source, params, isolate)
        except ScriptError as exc:
            raise JudgeError(f"{path} {exc}", hint="it should set variables named like the parameters") from None
        return _named(_read_npz(io.BytesIO(data), params, path), params, path)
    if path.suffix != ".npz":
        raise JudgeError(f"{path}: give a .npz of arrays or a .py file that sets them")
    return _named(_read_npz(path, params, shown), params, shown)


def _folder_args(folder: Path, params: list[str]) -> dict:
    """A folder of one ``PARAM.npy`` per parameter (what ``run --save-failing`` writes), with
    a ``PARAM/`` folder of ``KEY.npy`` files for a dict argument; or its ``inputs.npz``."""
    if (folder / "inputs.npz").is_file():
        return load_args(folder / "inputs.npz", params)
    found: dict = {}
    left = ARGS_BYTES
    for p in sorted(folder.rglob("*.npy")):
        key = p.relative_to(folder).as_posix()[:-4]
        if key.partition(SEPARATOR)[0] not in params or p.is_symlink() or not p.is_file():
            continue
        with open(p, "rb") as f:
            found[key], used = _read_entry(f, key, p.stat().st_size, left, folder)
        left -= used
    if not found:
        raise JudgeError(f"{folder} holds no .npy file named like a parameter ({', '.join(params)})",
                         hint="give a .npz, a .py, or a folder that run --save-failing wrote")
    return _named(found, params, folder)


def _read_npz(source, params: list[str], shown) -> dict:
    """The arrays of an .npz (a path or a file object) that belong to ``params``, by key.

    Read as hostile input: only the entries named like a parameter (``Q``, ``params/embed``)
    are read, each only after its size (in the archive's listing and in its ``.npy``
    header) is checked against what is left of :data:`ARGS_BYTES`; no pickles, no object
    arrays."""
    import zipfile

    found: dict = {}
    left = ARGS_BYTES
    try:
        with zipfile.ZipFile(source) as z:
            for info in z.infolist():
                key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
                if key.partition(SEPARATOR)[0] not in params:
                    continue
                if not info.filename.endswith(".npy"):
                    raise JudgeError(f"{shown}: {info.filename} is not a .npy array")
                with z.open(info) as f:
                    found[key], used = _read_entry(f, key, info.file_size, left, shown)
                left -= used
    except JudgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile archive: BadZipFile, a bad compression method, ...
        raise JudgeError(f"{shown} is not a readable .npz of plain arrays: {type(exc).__name__}: {exc}",
                         hint="write it with np.savez(path, Q=Q, K=K, V=V): one named array per parameter") \
            from None
    return found


def _read_entry(f, key: str, size: int, left: int, shown):
    """One .npy array from ``f`` and its bytes, refused before it is read when its size on
    disk or in its header is more than ``left``, or it holds objects."""
    import numpy as np
    from numpy.lib import format as npy

    too_big = f"{shown}: {key} is more than the {ARGS_BYTES >> 20} MiB of inputs `try` takes"
    if size > left:
        raise JudgeError(too_big)
    try:
        version = npy.read_magic(f)
        shape, _, dtype = (npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0)(f)
        if dtype.hasobject or dtype.kind not in "biuf" or dtype.itemsize == 0:
            raise JudgeError(f"{shown}: {key} is not an array of numbers (dtype {dtype.str[:20]}); give "
                             "booleans, integers or floats")
        count = int(np.prod(shape, dtype=object))
        nbytes = count * dtype.itemsize
        if nbytes > left or count > ARGS_BYTES:
            raise JudgeError(too_big)
        f.seek(0)
        return npy.read_array(f, allow_pickle=False), nbytes
    except JudgeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a hostile file: zlib.error, lzma.LZMAError, ... are its too
        raise JudgeError(f"{shown}: {key} is not a readable .npy array: {type(exc).__name__}: {exc}") from None


def _named(found: dict, params: list[str], shown) -> dict:
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


def _near_names(args_file, missing: list[str]) -> str:
    """A hint when an .npz's arrays are unnamed (``np.savez(f, Q, K)`` names them arr_0, ...)
    or named like a parameter but for case."""
    import zipfile

    try:
        with zipfile.ZipFile(args_file) as z:
            keys = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
    except (OSError, zipfile.BadZipFile, ValueError):
        return ""
    if keys and all(k.startswith("arr_") for k in keys):
        return (f"; its arrays have no names ({', '.join(keys[:4])}): save them by name, "
                f"np.savez(path, {', '.join(f'{m}={m}' for m in missing)})")
    near = [k for k in keys if k.lower() in {m.lower() for m in missing}]
    return f"; names are case-sensitive (it has {', '.join(near)})" if near else ""


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
    isolate = isolation.resolve(isolate, secret=bool(os.environ.get(SECRET_VAR)), grading=False)
    args = {k: _as_model(v) for k, v in load_args(args_file, [p.split("=")[0] for p in ep.params],
                                                   isolate=isolate).items()}
    missing = [p for p in ep.required if p not in args]
    if missing:
        raise JudgeError(f"{args_file} does not set {', '.join(missing)}",
                         hint=f"the call is {ep.signature}{_how_to_give(problem, fn, missing)}"
                              f"{_near_names(args_file, missing)}")
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
    entry_points = [{"name": e.name, "params": e.params} for e in problem.entry_points]
    from .notebook import code_of, is_notebook
    from .track import read_track_source, sandbox_options

    source = code_of(file)[0] if is_notebook(file) else None  # a notebook's code cells, as `run` judges them
    with Sandbox(Path(file), entry_points, limits=Limits(), isolate=isolate, source=source,
                 **sandbox_options(problem, source if source is not None else read_track_source(file))) as box:
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
    from .render import indented
    from .untrusted import clean

    line = Text(tried.verdict.upper(), STYLE.get(tried.verdict, ""))
    if tried.message:
        line.append("  " + indented(clean(tried.message)))
    console.print(line)
