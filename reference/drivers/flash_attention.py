"""flash-attention: inputs whose running maximum must change, and a memory bound.

- ``rising``: keys grow along the sequence, so every later block of keys scores
  higher than the ones before and the running maximum changes block after block;
  an online softmax that does not rescale its running sum and output fails.
- ``long``: a long sequence (``L = 4096, d = 64``) where the judge measures the
  peak memory the call allocates (``"memory": true``). Past ``bound`` (a quarter of
  one ``L x L`` float64 matrix: 32 MiB at ``L = 4096``) the verdict is
  ``memory-limit``: the score matrix was materialised. To keep judging fast the
  values are checked on ``rows`` query rows drawn at random (the first and last
  always among them), computed here exactly, never as an ``L x L`` matrix; every
  row of every short case is checked in full.

Params (a list value is cycled over the count): ``B``, ``H``, ``L``, ``d``,
``block_size``, ``causal``; ``rise`` (rising: the scores of the last keys, about);
``bound`` (long: fraction of one L x L float64 matrix), ``rows`` (long: query rows
whose values are checked, default 512).
"""

import math

import numpy as np

from mhajudge.author import PEAK_LEAF, Outcome, check_answer

MIB = 1 << 20


def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) else value


def rising(rng, params, dtype, index):
    B, H, L, d = (_pick(params, n, index) for n in ("B", "H", "L", "d"))
    rise = _pick(params, "rise", index, 4.0)
    dt = np.float32 if dtype == "float32" else np.float64
    ramp = np.linspace(0.1, 1.0, L)[:, None]                         # later keys score higher
    Q = rng.standard_normal((B, H, L, d)) * 0.5 + 1.0
    K = (rng.standard_normal((B, H, L, d)) * 0.5 + 1.0) * ramp * rise / math.sqrt(d)
    V = rng.standard_normal((B, H, L, d))
    return {"Q": Q.astype(dt), "K": K.astype(dt), "V": V.astype(dt),
            "block_size": _pick(params, "block_size", index, 64), "causal": _pick(params, "causal", index, False)}


def exact_attention(Q, K, V, causal=False, positions=None, rows=256):
    """softmax(Q K^T / sqrt(d)) V for the queries at ``positions`` (default: all),
    ``rows`` queries at a time, so at most ``rows x L`` scores exist at once."""
    L, d = K.shape[-2], K.shape[-1]
    positions = np.arange(Q.shape[-2]) if positions is None else positions
    out = np.empty(Q.shape, dtype=np.float64)
    for i0 in range(0, Q.shape[-2], rows):
        i1 = min(i0 + rows, Q.shape[-2])
        s = Q[..., i0:i1, :].astype(np.float64) @ np.swapaxes(K, -1, -2).astype(np.float64) / math.sqrt(d)
        if causal:
            s = np.where(positions[i0:i1, None] >= np.arange(L)[None, :], s, -np.inf)
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        out[..., i0:i1, :] = (e / e.sum(axis=-1, keepdims=True)) @ V.astype(np.float64)
    return out.astype(Q.dtype)


def long(rng, params, dtype, index):
    B, H, L, d = (_pick(params, n, index, 1) for n in ("B", "H", "L", "d"))
    causal = _pick(params, "causal", index, False)
    dt = np.float32 if dtype == "float32" else np.float64
    Q, K, V = (rng.standard_normal((B, H, L, d)).astype(dt) for _ in range(3))
    sample = min(_pick(params, "rows", index, 512), L)
    rows = np.unique(np.concatenate([[0, L - 1], rng.choice(L, sample - 2, replace=False)]))
    full = L * L * 8
    return {"args": {"Q": Q, "K": K, "V": V, "block_size": _pick(params, "block_size", index, 64),
                     "causal": causal},
            "memory": True, "check": "memory", "expected": [],
            "meta": {"L": L, "bound": int(full * _pick(params, "bound", index, 0.25)), "full": full,
                     "shape": Q.shape, "rows": rows,
                     "want_rows": exact_attention(Q[..., rows, :], K, V, causal, positions=rows)}}


GENERATORS = {"rising": rising, "long": long}


def _check_rows(case, got):
    """The output's shape, then its values on the query rows the judge computed."""
    meta, tol = case.meta, case.tolerance
    if got.shape != meta["shape"]:
        return Outcome(False, None, f"output: wrong shape: got {got.shape}, expected {meta['shape']}")
    rows, want = meta["rows"], meta["want_rows"].astype(np.float64)
    g = got[..., rows, :].astype(np.float64)
    if not np.isfinite(g).all():
        return Outcome(False, None, f"output: {int((~np.isfinite(g)).sum())} of the checked values are NaN/inf")
    err = np.abs(g - want)
    bad = err > tol["atol"] + tol["rtol"] * np.abs(want)
    worst = float(err.max())
    if not bad.any():
        return Outcome(True, worst)
    b, h, r, k = np.unravel_index(int(np.argmax(np.where(bad, err, -1.0))), err.shape)
    return Outcome(False, worst, f"output: {int(bad.sum())} of {g.size} values off on the {len(rows)} query "
                                 f"rows checked; largest error {worst:.3g} at [{b}, {h}, {rows[r]}, {k}] "
                                 f"(got {g[b, h, r, k]:.6g}, expected {want[b, h, r, k]:.6g})")


def check_memory(case, answer):
    """The values first, then the peak allocation against the bound."""
    o = _check_rows(case, answer["output"])
    if not o.ok:
        return o
    if PEAK_LEAF not in answer:
        return Outcome(False, o.max_abs_error, "the peak memory of the call was not measured", verdict="runtime-error")
    peak, L = int(answer[PEAK_LEAF]), case.meta["L"]
    bound, full = case.meta["bound"], case.meta["full"]
    if peak <= bound:
        return o
    what = (f"the full {L} x {L} score matrix was materialised" if peak >= full
            else f"scores for far more than one block of queries and keys were held at once")
    return Outcome(False, o.max_abs_error,
                   f"the values are right, but the call allocated {peak / MIB:.1f} MiB at its peak, over the "
                   f"bound of {bound / MIB:.0f} MiB (one {L} x {L} float64 matrix is {full / MIB:.0f} MiB): "
                   f"{what}. Visit the keys block by block, keeping a running maximum, sum and output per "
                   f"query (online softmax), so that only a block_size x block_size tile of scores exists "
                   f"at a time.", verdict="memory-limit")


CHECKS = {"memory": check_memory}


def match_mistake(case, answer, mistake_answer):
    """The output equals the mistake's at the case's tolerance (the measured peak is not compared)."""
    return check_answer(answer, [mistake_answer], case.tolerance["atol"], case.tolerance["rtol"]).ok
