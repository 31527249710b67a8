"""The whole surface a problem author plugs into, in one place.

A problem is data (``problems/ID.yaml``) and a few Python modules under
``reference/`` (``ID.py`` the reference solution, ``mistakes/ID.py`` the named
mistakes as code, optionally ``drivers/ID.py`` for cases the built-in ``tensors``
generator cannot describe). The judge knows no problem by name: what a problem may
plug in is listed here, each hook with its type and what it must do, the way
pytest's ``hookspec.py`` lists a plugin's hooks. Modules are checked when they are
loaded (:func:`check_module`): an unknown hook whose name is close to a real one
(``CHECK``, ``match_mistake_exactly``), a hook of the wrong type, or a draft with an
unknown key (``expect`` for ``expected``) is a :class:`SpecError` naming the file
and the field, never a behaviour silently turned off.

Drivers and mistakes modules import what they need from here, and only from here::

    from mhajudge.author import Outcome, compare, PEAK_LEAF, step_leaf

The spec's ``torch_forbidden`` field (checked by :mod:`mhajudge.spec` and, against the
installed torch, by ``mhajudge validate``) lists the torch functions banned on the PyTorch
track beyond :data:`mhajudge.track.TRACK_FORBIDDEN`: dotted names (``torch.softmax``,
``torch.nn.functional.softmax``, ``torch.Tensor.softmax``, ``torch.ops.aten._softmax``,
``torch.nn.Transformer*``) or ``torch.autograd`` for the gradient engine. A problem needs
nothing else for the torch track: answers come back as arrays and its mistakes run on them.

A case group may also say ``omit: [param, ...]``: those optional parameters are
left out of the call (whatever the generator drew), so the callee's defaults are
judged (``omit: [dropout_p, training, rng]``); naming a required parameter is a
:class:`SpecError`.

The written guide, with a worked example, is ``reference/README.md``.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .check import Outcome, check_answer, compare, compare_leaf
from .errors import SpecError
from .generators import tensors
from .sandbox.models import CALLS_LEAF, ROWS_LEAF
from .sandbox.programs import PEAK_LEAF, TIMES_LEAF, step_leaf, time_steps

__all__ = ["Outcome", "check_answer", "compare", "compare_leaf", "SpecError", "tensors", "PEAK_LEAF", "step_leaf",
           "CALLS_LEAF", "ROWS_LEAF", "TIMES_LEAF", "time_steps", "model",
           "HOOKS", "DRAFT_KEYS", "check_module", "check_draft"]


# -- the hooks ---------------------------------------------------------------------

@dataclass(frozen=True)
class Hook:
    """One thing a module may define: its kind, the call it must accept, what it does."""
    module: str       # "drivers" or "mistakes"
    kind: str         # "mapping of functions", "function", "mapping"
    params: tuple     # the parameters each function must accept, in order
    doc: str


HOOKS: dict[str, Hook] = {
    # reference/drivers/ID.py ------------------------------------------------------
    "GENERATORS": Hook("drivers", "mapping of functions", ("rng", "params", "dtype", "index"), """
        ``{name: generator}``; a spec's case group says ``generator: name``. A
        generator gets a seeded ``numpy.random.Generator``, the group's ``params``
        (a dict), the case's dtype (``"float64"``/``"float32"``) and the index of the
        case in its group, and returns the call's arguments ``{param: value}`` or a
        *draft*: a dict with ``args`` and any of :data:`DRAFT_KEYS`."""),
    "CHECKS": Hook("drivers", "mapping of functions", ("case", "answer"), """
        ``{name: check}``; a draft says ``check: name`` to replace the tolerance
        comparison. A check gets the :class:`mhajudge.cases.Case` (with ``meta``)
        and the candidate's flat answer ``{leaf: ndarray}`` (for a memory program,
        with :data:`PEAK_LEAF`) and returns an :class:`Outcome`; it may set
        ``verdict`` (``"memory-limit"``) and ``details`` (text shown under a failing
        case, never with ``--hide``)."""),
    "match_mistake": Hook("drivers", "function", ("case", "answer", "mistake_answer"), """
        For custom-checked (random) cases: does the candidate's ``answer`` behave like
        ``mistake_answer``, the mistake's own answer on the same inputs? Returns a bool."""),
    "match_mistake_exact": Hook("drivers", "function", ("case", "answer", "mistake"), """
        Like ``match_mistake``, given the mistake function itself (when its law can be
        computed exactly, as for a sampler). Used instead of ``match_mistake`` when both exist."""),
    "mistake_exception": Hook("drivers", "function", ("case", "mistake"), """
        Which builtin exception class (a name such as ``"ValueError"``) the mistake
        raises on the case, or None, without running it; for custom-checked cases."""),
    # reference/mistakes/ID.py -----------------------------------------------------
    "MISTAKES": Hook("mistakes", "mapping", (), """
        ``{mistake id: {entry point: function or [functions]}}``: each named mistake of
        the spec as code, in every form candidates write it. Runs only in the judge."""),
    "EVIDENCE": Hook("mistakes", "mapping", (), """
        ``{mistake id: {entry point: function or [functions]}}``: the forms a mistake is
        easily confused with (its *twins*). A failing case counts as the mistake's own
        evidence only when no twin matches it too, and a mistake is named only with
        evidence of its own: ``unstable-softmax`` needs a case where the answer goes
        non-finite while a stable softmax without a guard for fully masked rows (its
        twin) does not."""),
    "PRECISION": Hook("mistakes", "mapping", (), """
        ``{entry point: {what: function}}``: the reference with one part computed in
        float32 (``"the rotation angles"``). When a float64 answer is right only to
        float32 precision, the ``float32-precision`` diagnosis names the nearest form."""),
    "ACCEPTED": Hook("mistakes", "mapping", (), """
        ``{entry point: [functions]}``: other conventions the contract accepts (their
        answers are accepted alternatives, e.g. a fully masked row as zeros)."""),
}

DRAFT_KEYS: dict[str, str] = {
    "args": "{param: value} for the call (required)",
    "program": '"call" (default), "repeat" (with vary) or "steps" (with steps); see mhajudge.sandbox.programs',
    "vary": "for repeat: a list of keyword overrides, one call each (e.g. {'rng': {'$rng': seed}}); "
            "'$args': [...] replaces the positional arguments of that call",
    "steps": "for steps: a list of {args, kwargs} calls; {'$prev': i} is part i of the previous return",
    "memory": "true: measure the call's peak memory into the answer's $peak_bytes leaf",
    "expected": "the answer, or a list of accepted answers (default: the reference's)",
    "check": "the name of a function in CHECKS that replaces the tolerance comparison",
    "meta": "anything the check needs",
    "times": "true, for steps: the trusted child hands the steps over one at a time and times each "
             "(wall clock, from outside the candidate's process) into the answer's $step_times leaf",
}


def model(kind: str, **arrays) -> dict:
    """An argument that is a function of the judge's, built from plain arrays.

    ``model("recurrent", embed=..., W_h=..., W_out=..., bias=...)`` is the marker
    ``{"$model": {...}}``: the wire carries the arrays, and the judge (for the
    reference and the mistakes) and the trusted child (for the candidate) each build
    the function from them (``mhajudge/sandbox/models.py``: the kinds, the checks on
    hostile calls). No callable crosses the process boundary and no expected value
    enters the child; the case's process gets neither the arrays nor the counts: its
    calls are answered by the child over a socket (``mhajudge/sandbox/serving.py``).
    The candidate's answer gets two leaves, :data:`CALLS_LEAF` (``$model_calls``)
    and :data:`ROWS_LEAF` (``$model_rows``), the number of calls and of prefixes
    asked for, as the child counted them (such a case is called once: no repeats
    for timing, and no speed ratio); a custom check reads them (the reference's
    expected answer has none; the default comparison ignores them). See
    ``reference/drivers/beam_search.py``.
    """
    return {"$model": {"kind": kind, **arrays}}


# -- the check ---------------------------------------------------------------------

def _close(name: str, known) -> str | None:
    """The known name ``name`` is probably a misspelling of."""
    lower = {k.lower(): k for k in known}
    hit = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.8)
    return lower[hit[0]] if hit else None


def _accepts(fn, params: tuple) -> bool:
    try:
        inspect.signature(fn).bind(*params)
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): trust it
        return True
    return True


def check_module(module, kind: str, where: str) -> None:
    """Refuse a drivers/mistakes module with a misspelt or mis-typed hook.

    ``kind`` is ``"drivers"`` or ``"mistakes"``; ``where`` names the file for the
    message (``reference/drivers/sampling.py``).
    """
    mine = {n: h for n, h in HOOKS.items() if h.module == kind}
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if name not in mine:
            guess = _close(name, mine)
            if guess and name != guess:
                raise SpecError(f"{where}: {name}: not a hook (did you mean {guess}?); the hooks of a "
                                f"{kind} module are {', '.join(mine)} (see mhajudge/author.py)")
            continue
        _check_hook(name, mine[name], value, where)


def _check_hook(name: str, hook: Hook, value, where: str) -> None:
    if hook.kind == "function":
        if not callable(value) or not _accepts(value, hook.params):
            raise SpecError(f"{where}: {name}: must be a function ({', '.join(hook.params)})")
        return
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: {name}: must be a dict, not a {type(value).__name__}")
    for key, item in value.items():
        if hook.kind == "mapping of functions":
            if not callable(item) or not _accepts(item, hook.params):
                raise SpecError(f"{where}: {name}[{key!r}]: must be a function ({', '.join(hook.params)})")
        elif name == "MISTAKES" and not isinstance(item, Mapping):
            raise SpecError(f"{where}: {name}[{key!r}]: must be a dict {{entry point: function or [functions]}}")


def check_draft(draft: dict, where: str) -> None:
    """Refuse a draft (a generator's return value) with an unknown key."""
    for key in draft:
        if key not in DRAFT_KEYS:
            guess = _close(str(key), DRAFT_KEYS)
            hint = f" (did you mean {guess!r}?)" if guess else ""
            raise SpecError(f"{where}: the draft has an unknown key {key!r}{hint}; "
                            f"known keys: {', '.join(DRAFT_KEYS)} (see mhajudge/author.py)")


Generator = Callable[..., Mapping]  # (rng, params, dtype, index) -> args or a draft
Check = Callable[..., Outcome]      # (case, answer) -> Outcome
