"""The exact law of speculative decoding's output, and the knobs of its named mistakes.

Given the draft tokens ``x_0..x_{k-1}``, the draft's distributions ``q (k, V)`` and the
target's ``p (k+1, V)``, the output is ``x_0..x_{j-1}`` followed by one drawn token
``y``: a *cell* ``(j, y)``, index ``j * V + y`` of :func:`law`'s vector. With the
acceptance ``a_i = min(1, p_i[x_i] / q_i[x_i])`` and the residual
``r_i = max(0, p_i - q_i) / sum(...)``:

    P(j, y) = a_0 ... a_{j-1} * (1 - a_j) * r_j[y]      for j < k
    P(k, y) = a_0 ... a_{k-1} * p_k[y]                  (the bonus token)

Each named mistake is the same law with one knob turned (``KNOBS``). Without a
bonus, an all-accepted draft is returned as it is: the output ``x_0..x_{k-1}``,
the cell ``(k - 1, x_{k-1})``. The driver checks draws against it, the mistakes
draw by the very procedure with the knob turned; the oracle enumerates the
accept/reject paths independently.
"""

from __future__ import annotations

import numpy as np

CORRECT = {"ratio": "p/q", "resample_from": "residual", "bonus": True}

KNOBS = {
    "spec-ratio-inverted": {"ratio": "q/p"},
    "spec-resample-target": {"resample_from": "target"},
    "spec-no-bonus": {"bonus": False},
}


def acceptance(p_x: float, q_x: float, ratio: str = "p/q") -> float:
    """The probability of accepting a draft token with target mass p_x and draft mass q_x."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = p_x / q_x if ratio == "p/q" else q_x / p_x
    return 1.0 if not np.isfinite(r) else float(min(1.0, r))


def resample(p_i, q_i, resample: str = "residual"):
    """The distribution drawn from at a rejection."""
    if resample == "target":
        return np.asarray(p_i, dtype=np.float64)
    r = np.maximum(np.asarray(p_i, dtype=np.float64) - q_i, 0.0)
    s = r.sum()
    return r / s if s > 0 else np.zeros_like(r)  # a rejection then has probability 0


def law(draft_tokens, q, p, ratio="p/q", resample_from="residual", bonus=True) -> np.ndarray:
    """``((k + 1) * V,)``: the probability of each output cell (see the module docstring)."""
    x = [int(t) for t in np.asarray(draft_tokens).reshape(-1)]
    q, p = np.asarray(q, dtype=np.float64), np.asarray(p, dtype=np.float64)
    k, V = len(x), p.shape[1]
    out = np.zeros((k + 1, V))
    reach = 1.0                                   # P(the first j draft tokens are accepted)
    for j in range(k):
        a = acceptance(p[j, x[j]], q[j, x[j]], ratio)
        out[j] += reach * (1.0 - a) * resample(p[j], q[j], resample_from)
        reach *= a
    if bonus:
        out[k] += reach * p[k]
    elif k:
        out[k - 1, x[k - 1]] += reach
    return out.reshape(-1)


def first_token_law(q0, p0, ratio="p/q", resample_from="residual") -> np.ndarray:
    """``(V,)``: the law of the first returned token when ``x_0`` is drawn from ``q0``
    (with any later drafts and ``bonus`` it does not depend on them). Correct: ``p0``."""
    q0, p0 = np.asarray(q0, dtype=np.float64), np.asarray(p0, dtype=np.float64)
    out = np.zeros_like(p0)
    for x in np.flatnonzero(q0 > 0):
        a = acceptance(p0[x], q0[x], ratio)
        out[x] += q0[x] * a
        out += q0[x] * (1.0 - a) * resample(p0, q0, resample_from)
    return out


def cells(tokens: np.ndarray, draft_tokens, V: int) -> np.ndarray:
    """The cell of each output (rows of ids padded with -1), or -1 where no cell is one:
    a length outside 1..k+1, a prefix that is not the draft's, a token outside 0..V-1."""
    tokens = np.asarray(tokens, dtype=np.int64)
    drafts = np.asarray(draft_tokens, dtype=np.int64)
    if drafts.ndim == 1:
        drafts = np.broadcast_to(drafts, (tokens.shape[0], drafts.size))
    k = drafts.shape[1]
    out = np.full(tokens.shape[0], -1, dtype=np.int64)
    for n, row in enumerate(tokens):
        m = int(np.sum(row >= 0))
        if not 1 <= m <= k + 1 or np.any(row[:m] < 0):
            continue
        if np.any(row[:m - 1] != drafts[n, :m - 1]) or not 0 <= row[m - 1] < V:
            continue
        out[n] = (m - 1) * V + row[m - 1]
    return out
