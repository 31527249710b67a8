"""How a candidate's function is called and its outcome described: the *programs*.

The same code drives the candidate in its case's process and the reference (and
the named mistakes) in the judge, so both are called, timed and flattened alike.

Programs (the only ways the judge can drive a candidate):

- ``call``: one call ``fn(*args, **kwargs)``; the answer is its flattened return.
- ``repeat``: the same call once per item of ``vary`` (each item a dict of
  keyword overrides, e.g. a seed or ``{"$rng": seed}``, and optionally
  ``"$args"``, a list replacing the positional arguments); each leaf of the
  answer is stacked along a new first axis (token ids padded, see ``answers``).
- ``steps``: a sequence of calls; an argument ``{"$prev": i}`` is replaced by
  part ``i`` of the previous call's return value (e.g. a KV cache handed back).
  Each step keeps its own leaves, named ``step {k} {leaf}`` (``step 0 out_t``,
  ``step 2 K_cache``), since their shapes may change from step to step.

Standard library and NumPy only: the child loads this file by path.
"""

from __future__ import annotations

import builtins
import time
import traceback

try:
    from . import serving  # in the judge, part of the package
except ImportError:  # in the child, loaded by path beside this file
    import importlib.util as _util
    import os as _os

    _spec = _util.spec_from_file_location("_mhajudge_serving", _os.path.join(_os.path.dirname(__file__), "serving.py"))
    serving = _util.module_from_spec(_spec)
    _spec.loader.exec_module(serving)
models = serving.models

PEAK_LEAF = "$peak_bytes"  # the answer leaf a memory-bound check reads (the judge fills it)
TIMES_LEAF = "$step_times"  # per-step times of a timed steps program, the child's (see serving.Driver)
_clock = time.perf_counter  # taken before any candidate code can replace time.perf_counter
_cpu_clock = time.process_time  # the CPU time of this process: what a busy machine's other work does not inflate

# Taken when this file loads, before any candidate code exists: the builtin exception
# classes by identity, so a class the candidate names "ValueError" is not one.
_type = type
_BUILTIN_EXCEPTIONS = {id(c): n for n, c in vars(builtins).items() if isinstance(c, type) and issubclass(c, BaseException)}
_KEEP_ALIVE = [c for c in vars(builtins).values() if isinstance(c, type) and issubclass(c, BaseException)]


def exception_code(exc: BaseException) -> str:
    """The nearest builtin exception class of ``exc`` (``ValueError`` for a subclass of
    it), found by identity, never by a name the candidate chose."""
    for klass in _type(exc).__mro__:
        name = _BUILTIN_EXCEPTIONS.get(id(klass))
        if name:
            return name
    return "BaseException"


def candidate_line(tb, filename: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == filename:
            line = frame.lineno
    return line


def describe_exception(exc: BaseException, filename: str) -> dict:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    where = ""
    if frames:
        f = frames[-1]
        where = f" (line {f.lineno}: {(f.line or '').strip()[:80]})"
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a candidate's __str__ may raise
        text = "(the exception's message could not be read)"
    if len(text) > 500:
        text = text[:500] + "..."
    kind = _type(exc).__name__
    return {"type": kind, "code": exception_code(exc), "text": text, "where": where,
            "said": f"{kind}: {text}" if text else kind,  # `raise NotImplementedError` has no text
            "line": frames[-1].lineno if frames else None}


def with_generators(value, copy_arrays: bool = False):
    """``{"$rng": seed}`` anywhere in the inputs becomes ``np.random.default_rng(seed)``,
    and ``{"$model": {...}}`` the judge's function built from those arrays (:mod:`models`).

    The wire sends such a marker as a plain dict, so each side makes the generators
    itself, a fresh one per marker (e.g. one per item of a ``repeat`` program's
    ``vary``): the child for the candidate, the judge for the reference and the
    mistakes, which also copy the arrays (``copy_arrays``: trusted code must not
    change a case's inputs, which other submissions share).
    """
    import numpy as np

    if isinstance(value, dict):
        if set(value) == {"$rng"}:
            return np.random.default_rng(value["$rng"])
        if models.is_marker(value):  # a judge-owned function built from arrays (models.py)
            return models.build(value)
        if serving.is_served(value):  # the same, answered by the child (serving.py)
            return serving.proxy(value)
        return {k: with_generators(v, copy_arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [with_generators(v, copy_arrays) for v in value]
    if isinstance(value, tuple):
        return tuple(with_generators(v, copy_arrays) for v in value)
    if copy_arrays and isinstance(value, np.ndarray):
        return value.copy()
    return value


# Byte sizes of the NaN-filled blocks freed before a deterministic program: NumPy's cache of
# small data blocks (exact sizes below 1024 bytes, several per size) and malloc's bins above it.
POISON_SMALL = range(8, 1024 + 8, 8)
POISON_COPIES = 4
POISON_LARGE = (2048, 3072, 4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536)


def poison_free_memory(fill: float = float("nan")) -> None:
    """Leave NaN (or ``fill``) in the memory the next allocations reuse, then let it go.

    An array made with ``np.empty`` and read before it is written holds whatever the
    memory held: finite leftovers on one heap's history, NaN or inf on another's, so such
    a bug passed or failed with the case's secret. Freed just before the call, NaN-filled
    blocks of the common small sizes make it read NaN (and fail) every time. Called before
    a deterministic program (not a ``repeat`` of thousands of calls), outside the timed and
    the memory-measured stretch: by the child for the candidate, by the judge for the
    reference, the mistakes and the mutants; a few milliseconds.
    """
    import numpy as np

    for n in POISON_SMALL:   # a size at a time, so at most a few blocks are alive (a measured peak barely moves)
        held = [np.full(n // 8, fill) for _ in range(POISON_COPIES)]
        del held
    for n in POISON_LARGE:
        held = [np.full(n // 8, fill) for _ in range(2)]
        del held


DRIVEN = "$driven"  # a timed steps program's "steps" in the case's process: the child hands them over


def timed(program: dict) -> bool:
    """Is this a timed steps program, whose steps the child hands over and times itself?"""
    return bool(program.get("times")) and program.get("kind") == "steps"


def step_args(step: dict, k: int, prev, answer_error=TypeError, describe="") -> list:
    """Step ``k``'s positional arguments, ``{"$prev": i}`` replaced by part ``i`` of ``prev``
    (the previous step's return, which must then be a tuple or list)."""
    feeds = any(isinstance(a, dict) and "$prev" in a for a in step["args"])
    if feeds and not isinstance(prev, (tuple, list)):  # only a return fed back must be a tuple
        raise answer_error(f"step {k - 1} returned a {type(prev).__name__}, expected a tuple {describe}")
    return [prev[a["$prev"]] if isinstance(a, dict) and "$prev" in a else a for a in step["args"]]


def call_program(fn, kind: str, inputs: dict, answer_error=TypeError, describe="", driven=None) -> list:
    """Call ``fn`` as the program says; the raw return value of each call. A timed steps
    program's steps (``inputs["steps"] == DRIVEN``) come from ``driven(fn, args_of)``
    (the child hands them over one at a time, :func:`.serving.driven_steps`)."""
    args, kwargs = inputs.get("args", []), inputs.get("kwargs", {})
    if kind == "call":
        return [fn(*args, **kwargs)]
    if kind == "repeat":  # an item's "$args" (a list) replaces the positional arguments for that call
        return [fn(*extra.get("$args", args), **{**kwargs, **{k: v for k, v in extra.items() if k != "$args"}})
                for extra in inputs["vary"]]
    if kind == "steps":
        def args_of(step, k, prev):
            return step_args(step, k, prev, answer_error, describe)

        if inputs["steps"] == DRIVEN:
            return driven(fn, args_of)
        results, prev = [], None
        for step in inputs["steps"]:
            prev = fn(*args_of(step, len(results), prev), **step.get("kwargs", {}))
            results.append(prev)
        return results
    raise ValueError(f"unknown program kind {kind!r}")


def time_steps(fn, inputs: dict, repeats: int = 3) -> list[float]:
    """Each step of a ``steps`` program timed in this process: the least CPU time
    (``time.process_time``, which other work on a busy machine does not inflate) over
    ``repeats`` calls, made round by round so a slow spell cannot cover all of one
    step's. The judge times the reference with this, at the time it checks the
    candidate's, whose steps the child timed from outside (:class:`.serving.Driver`).
    A step's ``$prev`` arguments are the previous step's return in the first round."""
    calls, prev = [], None
    for step in inputs["steps"]:
        args = step_args(step, len(calls), prev)
        calls.append((args, step.get("kwargs", {})))
        prev = fn(*args, **step.get("kwargs", {}))
    best = [float("inf")] * len(calls)
    for _ in range(max(1, int(repeats))):
        for k, (args, kwargs) in enumerate(calls):
            start = _cpu_clock()
            fn(*args, **kwargs)
            best[k] = min(best[k], _cpu_clock() - start)
    return best


REPEAT_BUDGET_S = 0.02  # a call quicker than this is timed as the median of repeats


def median_time(call, budget: float = REPEAT_BUDGET_S, most: int = 5, first: float | None = None) -> float:
    """A steady time for ``call()``: the median of up to ``most`` timings within
    ``budget`` seconds (``first`` is one already taken). Used for the candidate
    here and for the reference in the judge, so both are timed alike. Once one
    timing exists, a repeat that raises ends the repeats (their results are unused).
    """
    times = [] if first is None else [first]
    while not times or (len(times) < most and sum(times) < budget):
        start = time.perf_counter()
        try:
            call()
        except BaseException:
            if not times:
                raise
            break
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def step_leaf(step: int, name: str) -> str:
    """The name of leaf ``name`` of step ``step`` in a ``steps`` answer."""
    return f"step {step} {name}"


def shape_answer(results: list, kind: str, tree, answers) -> dict:
    """Flatten each result along ``tree``; stack them for repeat, name them per step for steps."""
    import numpy as np

    flats = [answers.flatten(r, tree) for r in results]
    if kind == "call":
        return flats[0]
    if kind == "steps":
        return {step_leaf(k, name): value for k, flat in enumerate(flats) for name, value in flat.items()}
    stacked = {}
    ids = {name for name, kind in answers.kinds(tree).items() if kind == "ids"}
    for name in flats[0]:
        parts = [f[name] for f in flats]
        if name in ids and len({p.shape for p in parts}) != 1:
            parts = answers.pad_ids(parts)  # token lists of different lengths: padded with -1
        if len({p.shape for p in parts}) != 1:
            shapes = ", ".join(sorted({str(p.shape) for p in parts}))
            raise answers.AnswerError(f"{name}: the shape changes from call to call: {shapes}")
        stacked[name] = np.stack(parts)
    return stacked
