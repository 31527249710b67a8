"""Checking one answer: shapes, dtypes, tolerances, and a message to act on.

Everything here runs in the judge, on arrays read back from the child, with the
judge's own NumPy: nothing the candidate did to NumPy in its process matters.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Outcome:
    ok: bool
    max_abs_error: float | None = None
    message: str = ""
    verdict: str | None = None   # a custom check may say e.g. "memory-limit"; default by ok
    details: str = ""            # multi-line text for people (e.g. a frequency bar chart);
                                 # shown under the table for a failing case, never with --hide


def _index(idx) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def compare_leaf(name: str, got, want, atol: float, rtol: float) -> Outcome:
    """``|got - want| <= atol + rtol*|want|`` elementwise, NaN/inf only where expected."""
    import numpy as np

    if got.shape != want.shape:
        from .hints import shape_hint

        hint = shape_hint(got.shape, want.shape)
        return Outcome(False, None, f"{name}: wrong shape: got {got.shape}, expected {want.shape}"
                                    + (f" ({hint})" if hint else ""))
    if want.dtype.kind == "f" and got.dtype.kind not in "f":
        return Outcome(False, None, f"{name}: has integer/bool dtype {got.dtype}; expected floating point numbers")
    if want.dtype.kind in "iub":
        if got.dtype.kind not in "iub":
            return Outcome(False, None, f"{name}: expected integers, got dtype {got.dtype}")
        bad = got != want
        if bad.any():
            idx = np.argwhere(bad)[0]
            where = _index(idx) if got.ndim else ""
            return Outcome(False, None, f"{name}{where}: got {got[tuple(idx)]}, expected {want[tuple(idx)]}")
        return Outcome(True, 0.0)
    g = got.astype(np.float64)
    w = want.astype(np.float64)
    g_fin, w_fin = np.isfinite(g), np.isfinite(w)
    same_nonfinite = (~g_fin & ~w_fin) & ((np.isnan(g) & np.isnan(w)) | (g == w))
    if (~g_fin & ~same_nonfinite).any():
        bad = ~g_fin & ~same_nonfinite
        idx = np.argwhere(bad)[0]
        what = "NaN" if np.isnan(g[tuple(idx)]) else "inf"
        return Outcome(False, None, f"{name}: {int(bad.sum())} of {g.size} values are NaN/inf, "
                                    f"the first ({what}) at {_index(idx)}")
    if (~w_fin & g_fin).any():
        idx = np.argwhere(~w_fin & g_fin)[0]
        return Outcome(False, None, f"{name}{_index(idx)}: expected {w[tuple(idx)]}, got {g[tuple(idx)]}")
    both = g_fin & w_fin
    err = np.where(both, np.abs(g - w), 0.0)
    max_err = float(err.max()) if err.size else 0.0
    bad = err > atol + rtol * np.abs(np.where(both, w, 0.0))
    if not bad.any():
        return Outcome(True, max_err)
    idx = np.unravel_index(int(np.argmax(np.where(bad, err, -1.0))), err.shape)
    msg = (f"{name}: {int(bad.sum())} of {g.size} values off; largest error {max_err:.3g} "
           f"at {_index(idx)} (got {g[idx]:.6g}, expected {w[idx]:.6g})")
    if name.endswith("weights") and g.ndim >= 1:
        msg += _row_sums(g, w)
    return Outcome(False, max_err, msg)


def _row_sums(g, w) -> str:
    """Attention rows should sum to 1 (or 0 where every key is masked)."""
    import numpy as np

    got_sums, want_sums = g.sum(-1), w.sum(-1)
    off = np.abs(got_sums - want_sums) > 1e-3
    if not off.any():
        return ""
    idx = np.argwhere(off)[0]
    return (f"; row sums are off: row {_index(idx)} sums to {got_sums[tuple(idx)]:.4g}"
            f" (expected {want_sums[tuple(idx)]:.4g})")


def _compare(got: dict, want: dict, atol: float, rtol: float) -> tuple[Outcome, int]:
    """All leaves of one answer against one expected answer, and how many are off."""
    errors, messages, right = [], [], []
    for name, w in want.items():
        if name not in got:
            return Outcome(False, None, f"{name}: missing from the answer"), len(want)
        o = compare_leaf(name, got[name], w, atol, rtol)
        if o.max_abs_error is not None:
            errors.append(o.max_abs_error)
        if not o.ok:
            messages.append(o.message)
        else:
            right.append(name)
    worst = max(errors) if errors else None
    message = "; ".join(messages)
    if messages and right:  # with several parts, say which ones are fine
        message += f". Right: {', '.join(right)}" if len(right) <= 6 else f". The other {len(right)} parts are right"
    return Outcome(not messages, worst, message), len(messages)


def compare(got: dict, want: dict, atol: float, rtol: float) -> Outcome:
    """All leaves of one answer against one expected answer."""
    return _compare(got, want, atol, rtol)[0]


def check_answer(got: dict, alternatives: list[dict], atol: float, rtol: float) -> Outcome:
    """Pass if the whole answer matches one accepted answer; else explain the closest one.

    The closest is the one with the fewest parts off (the primary one on a tie), so
    an answer that follows another accepted convention is explained against it.
    """
    closest = None
    for want in alternatives:
        o, bad = _compare(got, want, atol, rtol)
        if o.ok:
            return o
        if closest is None or bad < closest[1]:
            closest = (o, bad)
    return closest[0]


def matches(got: dict, alternatives: list[dict], atol: float, rtol: float) -> bool:
    """``check_answer(got, alternatives, atol, rtol).ok``, without the explanation: what
    diagnosis asks hundreds of times per submission (is this answer a mistake's?), where
    the message :func:`compare_leaf` builds for every mismatch is most of the cost."""
    return any(all(name in got and leaf_matches(got[name], w, atol, rtol) for name, w in want.items())
               for want in alternatives)


def leaf_matches(got, want, atol: float, rtol: float) -> bool:
    """``compare_leaf(...).ok``: the same decision, decided early where it can be (any finite
    value out of tolerance fails; all finite and within passes); what only non-finite
    values decide, and any other dtype, is left to :func:`compare_leaf` itself."""
    import numpy as np

    if got.shape != want.shape:
        return False
    wk, gk = want.dtype.kind, got.dtype.kind
    if wk not in "fiub" or gk not in "fiub":
        return compare_leaf("", got, want, atol, rtol).ok
    if wk == "f" and gk != "f":
        return False
    if wk in "iub":
        return gk in "iub" and bool(np.array_equal(got, want))
    g = got.astype(np.float64, copy=False)
    w = want.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(g - w) <= atol + rtol * np.abs(w)
    finite = np.isfinite(g) & np.isfinite(w)
    if finite.all():  # compare_leaf's own rule, all of it
        return bool(close.all())
    if (finite & ~close).any():
        return False
    return compare_leaf("", got, want, atol, rtol).ok
