"""speculative-decoding is judged on distributions, as sampling is.

Every statistical case calls ``speculative_accept`` once per seed of a list (a
``repeat`` program; the seeds derive from the case's seed, so ``MHAJUDGE_SECRET``
changes them) and checks, in the judge, against the exact law of the output
(``reference/shared/speculative_law.py``, never sent to the child):

- ``law`` (one draft, many seeds): every output must be a possible one (its
  length 1..k+1, its prefix the draft's, its last token possible there: one
  impossible output fails the case, named with its seed and why), and the counts
  of the outputs must pass the G-test (level 1e-8, ``stats``) against the exact
  probabilities of the ``(k + 1) * V`` outputs;
- ``first_token`` (the judge draws each call's draft from ``q`` itself, so the
  drafts vary with the seeds): each output possible for its own draft, and the
  first returned token distributed as ``p_0``, the point of the method;
- ``determinism``: the same seed gives the same tokens, other seeds other ones.

Generator params: ``vocab``, ``k`` (draft length), ``draws``, ``scale`` (of the
target's logits), ``near`` (in [0, 1): the draft is ``near * p + (1 - near) * noise``,
so most drafts are accepted; ``equal``: the draft's rows are the target's, so every
draft is accepted), ``zeros`` (tokens each target row gives probability
0, as a top-k target does), ``separates`` (mistake ids the case must expose:
drawn from the mistake's law, ``n`` draws fail all but surely, ``stats.separates``),
``seed`` (fixed, for samples).
"""

from __future__ import annotations

import numpy as np

from mhajudge.author import Outcome, SpecError
from mhajudge_reference.shared import stats
from mhajudge_reference.shared.speculative_law import KNOBS, cells, first_token_law, law

TRIES = 2000
F = "speculative_accept"


def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) and name != "separates" else value


def _distinct_seeds(rng, n: int) -> list[int]:
    seeds = rng.choice(2**32, size=n, replace=False)
    return [int(s) for s in seeds]


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _distributions(rng, params, index, k, V):
    """q (k, V) and p (k + 1, V), as the params say."""
    scale = float(_pick(params, "scale", index, 1.5))
    near = float(_pick(params, "near", index, 0.0))
    zeros = int(_pick(params, "zeros", index, 0))
    p = _softmax(scale * rng.standard_normal((k + 1, V)))
    for row in p:
        if zeros:
            row[rng.choice(V, size=zeros, replace=False)] = 0.0
            row /= row.sum()
    if params.get("equal"):
        return p[:k].copy(), p
    noise = _softmax(scale * rng.standard_normal((k, V)))
    q = near * p[:k] + (1 - near) * noise
    q = q / q.sum(-1, keepdims=True)
    return q, p


def _draw_draft(rng, q):
    return np.array([rng.choice(q.shape[1], p=row) for row in q], dtype=np.int64)


def _separated(params, n, right, wrong_of) -> bool:
    return all(stats.separates(wrong_of(KNOBS[m]), right, n) for m in params.get("separates", []) or [])


def fixed_draft(rng, params, dtype, index):
    """One draft, drawn from q once; ``draws`` calls with different seeds."""
    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    V, k = int(_pick(params, "vocab", index, 6)), int(_pick(params, "k", index, 3))
    n = int(_pick(params, "draws", index, 3000))
    for _ in range(TRIES):
        q, p = _distributions(rng, params, index, k, V)
        x = _draw_draft(rng, q)
        right = law(x, q, p)
        if _separated(params, n, right, lambda knobs: law(x, q, p, **knobs)):
            break
    else:
        raise SpecError(f"speculative-decoding: no distributions met the case's conditions in {TRIES} draws "
                        f"({params})")
    seeds = _distinct_seeds(rng, n)
    return {"args": {"draft_tokens": x, "draft_probs": q, "target_probs": p}, "program": "repeat",
            "vary": [{"seed": s} for s in seeds], "check": "law", "expected": [], "meta": {"seeds": seeds}}


def drawn_draft(rng, params, dtype, index):
    """The judge draws each call's draft from q: the first returned token must follow p_0."""
    V, k = int(_pick(params, "vocab", index, 6)), int(_pick(params, "k", index, 3))
    n = int(_pick(params, "draws", index, 3000))
    for _ in range(TRIES):
        q, p = _distributions(rng, params, index, k, V)
        if _separated(params, n, p[0], lambda knobs: first_token_law(q[0], p[0], **{
                key: v for key, v in knobs.items() if key != "bonus"})):
            break
    else:
        raise SpecError(f"speculative-decoding: no distributions met the case's conditions in {TRIES} draws "
                        f"({params})")
    seeds = _distinct_seeds(rng, n)
    drafts = [_draw_draft(rng, q) for _ in seeds]
    return {"args": {"draft_tokens": drafts[0], "draft_probs": q, "target_probs": p}, "program": "repeat",
            "vary": [{"$args": [d, q, p], "seed": s} for d, s in zip(drafts, seeds)],
            "check": "first_token", "expected": [], "meta": {"seeds": seeds, "drafts": np.stack(drafts)}}


def determinism(rng, params, dtype, index):
    V, k, n = int(params.get("vocab", 6)), int(params.get("k", 3)), int(params.get("repeats", 30))
    for _ in range(TRIES):  # no output, under any named mistake's law either, as likely as 1/2
        q, p = _distributions(rng, {"scale": 1.0}, index, k, V)
        x = _draw_draft(rng, q)
        if max(law(x, q, p, **knobs).max() for knobs in [{}, *KNOBS.values()]) < 0.5:
            break
    first, *others = _distinct_seeds(rng, n + 1)
    seeds = [s for other in others for s in (first, other)]
    meta = {"seeds": seeds, "same": list(range(0, 2 * n, 2)), "varied": list(range(1, 2 * n, 2))}
    return {"args": {"draft_tokens": x, "draft_probs": q, "target_probs": p}, "program": "repeat",
            "vary": [{"seed": s} for s in seeds], "check": "determinism", "expected": [], "meta": meta}


GENERATORS = {"fixed_draft": fixed_draft, "drawn_draft": drawn_draft, "determinism": determinism}


# -- checks -------------------------------------------------------------------------

def _rows(answer) -> np.ndarray:
    t = np.asarray(answer["tokens"]).astype(np.int64)
    return t.reshape(t.shape[0], -1) if t.ndim >= 1 else t.reshape(1, 1)


def _shown(row) -> str:
    return "[" + ", ".join(str(int(t)) for t in row if t >= 0) + "]"


def _why(row, x, q, p, knobs) -> str:
    """Why the output ``row`` cannot come from the draft ``x``."""
    m, k, V = int(np.sum(row >= 0)), len(x), p.shape[1]
    if not 1 <= m <= k + 1:
        return f"it has {m} tokens; the output has 1 to k + 1 = {k + 1}"
    if np.any(row[:m - 1] != x[:m - 1]):
        return f"its first {m - 1} tokens are not the draft's {_shown(x[:m - 1])}: only draft tokens are accepted"
    y, j = int(row[m - 1]), m - 1
    if m == k and np.all(row[:k] == x):  # a rejection never redraws the rejected token
        return f"it is the whole draft: all {k} were accepted, yet no bonus token was drawn from p_{k}"
    if not 0 <= y < V:
        return f"token {y} is outside the vocabulary 0..{V - 1}"
    if j == k:
        return f"the bonus token {y} has target probability p_{k}[{y}] = 0"
    if p[j, x[j]] >= q[j, x[j]]:
        return (f"draft token {int(x[j])} at position {j} has p >= q ({p[j, x[j]]:.3f} >= {q[j, x[j]]:.3f}), so it "
                "is always accepted: min(1, p/q) = 1")
    return (f"after rejecting position {j}, token {y} has max(0, p - q) = 0 there (p = {p[j, y]:.3f}, "
            f"q = {q[j, y]:.3f}): a rejected draft is redrawn from the residual max(0, p - q), renormalised")


def _forbidden(rows, drafts, q, p, knobs) -> np.ndarray:
    """Per call: the output's cell, or -1 when the law (with ``knobs``) cannot give it."""
    V = p.shape[1]
    c = cells(rows, drafts, V)
    laws = {}
    for n in np.flatnonzero(c >= 0):
        key = tuple(drafts[n]) if drafts.ndim == 2 else ()
        if key not in laws:
            laws[key] = law(drafts[n] if drafts.ndim == 2 else drafts, q, p, **knobs)
        if laws[key][c[n]] <= 0:
            c[n] = -1
    return c


def _support_message(case, rows, c, drafts, knobs) -> str:
    bad = np.flatnonzero(c < 0)
    if not bad.size:
        return ""
    n = int(bad[0])
    a = case.args
    x = drafts[n] if drafts.ndim == 2 else drafts
    more = f" ({bad.size} of {rows.shape[0]} calls gave impossible outputs)" if bad.size > 1 else ""
    return (f"seed {case.meta['seeds'][n]} (draft {_shown(x)}) returned {_shown(rows[n])}, which cannot happen: "
            f"{_why(rows[n], np.asarray(x), np.asarray(a['draft_probs']), np.asarray(a['target_probs']), knobs)}{more}")


def _fit_message(counts, probs, fit, what) -> str:
    n = counts.sum()
    freq = counts / max(n, 1)
    worst = int(np.argmax(np.abs(freq - probs)))
    return (f"the frequencies of {int(n)} {what} do not fit the exact law: G = {fit.statistic:.1f} > "
            f"{fit.threshold:.1f} ({fit.df} df, level {stats.LEVEL:g}); {{cell}} came {freq[worst]:.1%} of the "
            f"time, expected {probs[worst]:.1%}"), worst


def check_law(case, answer, knobs: dict | None = None) -> Outcome:
    knobs = knobs or {}
    a = case.args
    rows, seeds = _rows(answer), case.meta["seeds"]
    if rows.shape[0] != len(seeds):
        return Outcome(False, None, f"expected one output per call ({len(seeds)}), got {rows.shape[0]}")
    x, q, p = np.asarray(a["draft_tokens"]), np.asarray(a["draft_probs"]), np.asarray(a["target_probs"])
    c = _forbidden(rows, x, q, p, knobs)
    bad = _support_message(case, rows, c, x, knobs)
    if bad:
        return Outcome(False, None, bad)
    probs = law(x, q, p, **knobs)
    counts = np.bincount(c, minlength=probs.size)
    fit = stats.g_test(counts, probs)
    if not fit.reject:
        return Outcome(True, None)
    msg, worst = _fit_message(counts, probs, fit, "outputs")
    j, y = divmod(worst, p.shape[1])
    return Outcome(False, None, msg.format(cell=f"the output {_shown(list(x[:j]) + [y])}"))


def check_first_token(case, answer, knobs: dict | None = None) -> Outcome:
    knobs = knobs or {}
    a = case.args
    rows, seeds, drafts = _rows(answer), case.meta["seeds"], np.asarray(case.meta["drafts"])
    if rows.shape[0] != len(seeds):
        return Outcome(False, None, f"expected one output per call ({len(seeds)}), got {rows.shape[0]}")
    q, p = np.asarray(a["draft_probs"]), np.asarray(a["target_probs"])
    c = _forbidden(rows, drafts, q, p, knobs)
    bad = _support_message(case, rows, c, drafts, knobs)
    if bad:
        return Outcome(False, None, bad)
    probs = first_token_law(q[0], p[0], **{k: v for k, v in knobs.items() if k != "bonus"})
    counts = np.bincount(rows[:, 0], minlength=probs.size)[:probs.size]
    fit = stats.g_test(counts, probs)
    if not fit.reject:
        return Outcome(True, None)
    msg, worst = _fit_message(counts, probs, fit, "first tokens (drafts drawn from q)")
    return Outcome(False, None, msg.format(cell=f"token {worst}") +
                   ": speculative decoding must leave the target's distribution p_0 unchanged")


def check_determinism(case, answer) -> Outcome:
    rows, seeds, same, varied = _rows(answer), case.meta["seeds"], case.meta["same"], case.meta["varied"]
    if rows.shape[0] != len(seeds):
        return Outcome(False, None, f"expected one output per call ({len(seeds)}), got {rows.shape[0]}")
    got = rows[same]
    if np.any(got != got[0]):
        return Outcome(False, None, f"seed {seeds[same[0]]} gave different outputs in {got.shape[0]} calls (other "
                                    "seeds in between): draw from np.random.default_rng(seed) made inside the call")
    other = rows[varied]
    if np.all(other == other[0]):
        return Outcome(False, None, f"{other.shape[0]} calls with different seeds all gave {_shown(other[0])}: "
                                    "the draws must depend on the seed")
    return Outcome(True, None)


CHECKS = {"law": check_law, "first_token": check_first_token, "determinism": check_determinism}


def match_mistake_exact(case, answer, mistake) -> bool:
    """Do the candidate's outputs pass this case's check against the mistake's exact law?"""
    knobs = getattr(mistake, "keywords", None)
    if not knobs or case.check is check_determinism:
        return False
    return case.check(case, answer, knobs).ok
