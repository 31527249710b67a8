"""sampling is judged on distributions, with seeds fixed by the case.

Every distribution case calls ``sample_token`` once per seed of a list (a
``repeat`` program; the seeds derive from the case's seed, so ``MHAJUDGE_SECRET``
changes them) and checks, in the judge:

- support: no draw outside the tokens that temperature, top-k and top-p allow
  (one is enough to fail; the message names the token and why it is excluded);
- fit: the counts pass the G-test against the exact distribution at level 1e-8
  (see ``stats``: why G, why that level, what was measured).

Greedy cases are distribution cases whose law is one token. ``determinism``
calls one seed many times, interleaved with other seeds, and checks that the
same seed gives the same token and different seeds do not all agree; with
``seed=None`` only the variety is checked.

The exact distribution (:func:`law`, in ``reference/shared/sampling_law.py``) is
computed in the judge and never sent to the child. It takes the knobs of the named
mistakes (``KNOBS``), so a mistake's law is the same function with one knob turned,
and ``match_mistake_exact`` asks whether the candidate's draws fit the mistake's law
by the very test that judged them (``mistake_exception`` tells, from the law, where
a mistake's draw raises).

Generator params (``distribution``): ``vocab``, ``draws``, ``temperature``,
``top_k``, ``top_p``, ``scale``/``shift`` of the normal logits (or literal
``logits``), ``tie`` (the k-th and (k+1)-th logits equal), ``tie_max`` (two equal
maxima), ``first_crosses`` (the top token alone reaches ``top_p``), ``separates``
(mistake ids the case must expose: a sampler with the mistake fails it all but
surely, see ``stats.separates``), ``power`` (the case takes as many draws as it
needs, up to ``most_draws`` (default 40000; logits are redrawn until that suffices),
for a sampler drawing from the law raised to this power and renormalised to fail it
except with probability 1e-6, by the noncentral chi-square law of G:
``stats.draws_for_power``), ``exact_boundary`` (no margin around ``top_p``: for
literal logits whose cumulative probability hits ``top_p`` exactly, where ``>`` and
``>=`` differ), ``seed`` (fixed, for sample cases). Logits are
redrawn until every condition holds, and until no cumulative probability lies
within ``MARGIN`` of ``top_p``, in either filter order (implementations
legitimately differ exactly at the threshold).
"""

from __future__ import annotations

import numpy as np

from mhajudge.author import Outcome, SpecError
from mhajudge_reference.shared import stats
from mhajudge_reference.shared.sampling_law import KNOBS, Law, law, top_p_margin

MARGIN = 0.002       # no cumulative probability this close to top_p (float error is ~1e-15)
TRIES = 5000         # redraws of the logits before the spec is declared impossible


# -- the exact distribution (reference/shared/sampling_law.py) ---------------------

def case_law(case, **knobs) -> Law:
    a = case.args
    return law(a["logits"], a.get("temperature", 1.0), a.get("top_k"), a.get("top_p"), **knobs)


# -- generators -------------------------------------------------------------------

def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) and name not in ("logits", "separates", "bad") else value


def _distinct_seeds(rng, n: int) -> list[int]:
    """``n`` different seeds below 2**32 (so np.random.seed accepts them too), in drawn order."""
    seeds: list[int] = []
    seen: set[int] = set()
    while len(seeds) < n:
        for s in rng.integers(0, 2**32, size=n - len(seeds) + 8).tolist():
            if s not in seen and len(seeds) < n:
                seen.add(s)
                seeds.append(int(s))
    return seeds


def _acceptable(logits, T, k, p, params, n) -> bool:
    if not params.get("exact_boundary") and top_p_margin(logits, T, k, p) < MARGIN:
        return False
    right = law(logits, T, k, p)
    probs = right.probs
    if not right.finite:
        return False
    if params.get("first_crosses") and not np.sort(law(logits, T, k).probs)[-1] > p + MARGIN:
        return False
    if params.get("tie") and np.sum(probs > 0) <= k:
        return False
    if params.get("tie") and np.sort(probs[probs > 0])[0] * n < 100:
        return False  # the tied token must be drawn often enough to be missed
    for mistake in params.get("separates", []) or []:
        wrong = law(logits, T, k, p, **KNOBS[mistake]).probs
        if not stats.separates(wrong, probs, n):
            return False
    return True


def _logits(rng, params, index, V):
    if "logits" in params:
        return np.asarray(params["logits"], dtype=np.float64)
    scale = float(_pick(params, "scale", index, 1.0))
    shift = float(_pick(params, "shift", index, 0.0))
    x = shift + scale * rng.standard_normal(V)
    k = _pick(params, "top_k", index)
    if params.get("tie") and k is not None:
        order = np.argsort(-x)
        x[order[k]] = x[order[k - 1]]                       # the (k+1)-th equals the k-th
    if params.get("tie_max"):
        i, j = np.sort(rng.choice(V, size=2, replace=False))
        x[i] = x[j] = x.max() + abs(scale)                  # two equal maxima: i wins
    return x


def _distorted(probs, power: float):
    """The law ``probs ** power``, renormalised: a sampler slightly too sharp (or flat)."""
    q = np.asarray(probs, dtype=np.float64) ** power
    return q / q.sum()


def distribution(rng, params, dtype, index):
    """Draws of one distribution: ``draws`` calls with different seeds."""
    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    V = int(_pick(params, "vocab", index, 8))
    n = int(_pick(params, "draws", index, 2000))
    T = float(_pick(params, "temperature", index, 1.0))
    k = _pick(params, "top_k", index)
    p = _pick(params, "top_p", index)
    power = params.get("power")
    for _ in range(TRIES):
        logits = _logits(rng, params, index, V)
        if power is not None and "logits" not in params:
            # as many draws as it takes to catch the law ** power all but surely (stats.draws_for_power)
            wanted = law(logits, T, k, p).probs if law(logits, T, k, p).finite else None
            need = None if wanted is None else stats.draws_for_power(_distorted(wanted, float(power)), wanted,
                                                                     most=int(params.get("most_draws", 40000)))
            if need is None:
                continue
            n = max(int(_pick(params, "draws", index, 2000)), need)
        if _acceptable(logits, T, k, p, params, n):
            break
        if "logits" in params:
            raise SpecError(f"sampling: the literal logits {params['logits']} do not meet the case's "
                            f"conditions (top_p margin {MARGIN}, separates, ...)")
    else:
        raise SpecError(f"sampling: no logits met the case's conditions in {TRIES} draws; "
                        f"loosen them (params {params})")
    args = {"logits": logits, "temperature": T}
    if k is not None:
        args["top_k"] = int(k)
    if p is not None:
        args["top_p"] = float(p)
    seeds = _distinct_seeds(rng, n)
    return {"args": args, "program": "repeat", "vary": [{"seed": s} for s in seeds],
            "check": "distribution", "expected": [], "meta": {"seeds": seeds}}


def determinism(rng, params, dtype, index):
    """One seed called ``repeats`` times, interleaved with as many other seeds; or seed=None."""
    V = int(_pick(params, "vocab", index, 8))
    n = int(_pick(params, "repeats", index, 40))
    for _ in range(TRIES):
        logits = 0.5 * rng.standard_normal(V)
        if law(logits).probs.max() <= 0.4:                   # 40 draws all alike: < 1e-15
            break
    if params.get("seed_none"):
        seeds = [None] * n
        meta = {"seeds": seeds, "same": [], "varied": list(range(n))}
    else:
        first, *others = _distinct_seeds(rng, n + 1)
        seeds = [s for other in others for s in (first, other)]
        meta = {"seeds": seeds, "same": list(range(0, 2 * n, 2)), "varied": list(range(1, 2 * n, 2))}
    return {"args": {"logits": logits, "temperature": 1.0}, "program": "repeat",
            "vary": [{"seed": s} for s in seeds], "check": "determinism", "expected": [], "meta": meta}


def invalid(rng, params, dtype, index):
    """Valid logits with one invalid argument from ``bad`` (cycled)."""
    bad = params["bad"][index % len(params["bad"])]
    return {"logits": rng.standard_normal(int(params.get("vocab", 6))), **bad}


GENERATORS = {"distribution": distribution, "determinism": determinism, "invalid": invalid}


# -- checks -------------------------------------------------------------------------

def _tokens(answer) -> np.ndarray:
    return np.asarray(answer["token"]).astype(np.int64).reshape(-1)


def _support(tokens, the_law: Law, seeds) -> str:
    """The first draw the law forbids, explained; "" when every draw is allowed."""
    V = the_law.probs.size
    outside = (tokens < 0) | (tokens >= V)
    forbidden = outside.copy()
    inside = ~outside
    forbidden[inside] = the_law.probs[tokens[inside]] == 0
    if not forbidden.any():
        return ""
    i = int(np.argmax(forbidden))
    t = int(tokens[i])
    seed = "seed=None" if seeds[i] is None else f"seed {seeds[i]}"
    reason = (f"outside the vocabulary 0..{V - 1}" if outside[i]
              else the_law.why.get(t, "it has probability 0"))
    more = int(forbidden.sum())
    tail = f" ({more} of {tokens.size} draws were not allowed)" if more > 1 else ""
    return f"{seed} gave token {t}, which may not be drawn: {reason}{tail}"


def _fit(tokens, the_law: Law):
    counts = np.bincount(tokens, minlength=the_law.probs.size)[:the_law.probs.size]
    return counts, stats.g_test(counts, the_law.probs)


def _describe(case) -> str:
    a = case.args
    parts = [f"temperature={a.get('temperature', 1.0):g}"]
    parts += [f"{k}={a[k]:g}" for k in ("top_k", "top_p") if a.get(k) is not None]
    return ", ".join(parts)


def check_distribution(case, answer, the_law: Law | None = None) -> Outcome:
    """Support, then the G-test; a bar chart of expected vs observed for people."""
    the_law = the_law or case_law(case)
    tokens = _tokens(answer)
    seeds = case.meta["seeds"]
    if tokens.size != len(seeds):
        return Outcome(False, None, f"expected one token per call ({len(seeds)}), got {tokens.size}")
    bad = _support(tokens, the_law, seeds)
    counts = np.bincount(tokens[(tokens >= 0) & (tokens < the_law.probs.size)], minlength=the_law.probs.size)
    if bad:
        return Outcome(False, None, bad, details=chart(case, the_law, counts, tokens.size))
    _, fit = _fit(tokens, the_law)
    if not fit.reject:
        return Outcome(True, None)
    freq, want = counts / tokens.size, the_law.probs
    worst = int(np.argmax(np.abs(freq - want)))
    msg = (f"the frequencies of {tokens.size} draws do not fit the distribution: G = {fit.statistic:.1f} "
           f"> {fit.threshold:.1f} ({fit.df} df, level {stats.LEVEL:g}); token {worst} came "
           f"{freq[worst]:.1%} of the time, expected {want[worst]:.1%}")
    return Outcome(False, None, msg, details=chart(case, the_law, counts, tokens.size, fit))


def check_determinism(case, answer, the_law: Law | None = None) -> Outcome:
    the_law = the_law or case_law(case)
    tokens = _tokens(answer)
    seeds, same, varied = case.meta["seeds"], case.meta["same"], case.meta["varied"]
    if tokens.size != len(seeds):
        return Outcome(False, None, f"expected one token per call ({len(seeds)}), got {tokens.size}")
    bad = _support(tokens, the_law, seeds)
    if bad:
        return Outcome(False, None, bad)
    if same:
        got = tokens[same]
        if np.any(got != got[0]):
            shown = ", ".join(str(int(t)) for t in got[:8]) + (", ..." if got.size > 8 else "")
            return Outcome(False, None,
                           f"seed {seeds[same[0]]} gave tokens {shown} in {got.size} calls (other seeds in "
                           f"between): the same seed must give the same token; draw from a generator made "
                           f"from the seed inside the call, e.g. np.random.default_rng(seed)")
    got = tokens[varied]
    if got.size > 1 and np.all(got == got[0]):
        what = "seed=None" if seeds[varied[0]] is None else "different seeds"
        return Outcome(False, None,
                       f"{got.size} calls with {what} all gave token {int(got[0])}, although no token has "
                       f"probability above {the_law.probs.max():.2f}: the draw must depend on the seed"
                       + (" (seed=None draws fresh randomness)" if seeds[varied[0]] is None else ""))
    return Outcome(True, None)


CHECKS = {"distribution": check_distribution, "determinism": check_determinism}


def match_mistake_exact(case, answer, mistake) -> bool:
    """Do the candidate's draws pass this case's check against the mistake's exact law?

    The mistake is a ``functools.partial`` of a sampler with one knob of :func:`law`
    turned (``reference/mistakes/sampling.py``). Where the mistake's softmax
    overflows, its law is undefined (NaN) and any failing draws are explained by it.
    """
    knobs = getattr(mistake, "keywords", None)
    if not knobs:
        return False
    wrong = case_law(case, **knobs)
    if not wrong.finite:
        return True
    return case.check(case, answer, wrong).ok


def mistake_exception(case, mistake) -> str | None:
    """The exception the mistake raises on this case, told from its law without drawing:
    NaN probabilities make ``rng.choice`` (the mistake's, and most candidates') raise ValueError."""
    knobs = getattr(mistake, "keywords", None)
    if not knobs:
        return None
    return None if case_law(case, **knobs).finite else "ValueError"


# -- the chart -----------------------------------------------------------------------

BAR = 24
EIGHTHS = " ▏▎▍▌▋▊▉"


def _bar(fraction: float) -> str:
    units = max(0, int(round(fraction * BAR * 8)))
    full, rest = divmod(units, 8)
    return ("█" * full + (EIGHTHS[rest] if rest else "")).ljust(BAR + 1)


def chart(case, the_law: Law, counts, n: int, fit=None, limit: int = 20) -> str:
    """Expected and observed frequency per token, side by side, as bars."""
    want = np.nan_to_num(the_law.probs)
    got = counts / max(n, 1)
    shown = np.flatnonzero((want > 0) | (got > 0))
    hidden = 0
    if shown.size > limit:
        top = shown[np.argsort(-np.maximum(want[shown], got[shown]), kind="stable")[:limit]]
        hidden = shown.size - limit
        shown = np.sort(top)
    peak = max(float(np.max(want[shown], initial=0)), float(np.max(got[shown], initial=0)), 1e-12)
    head = f"{n} draws ({_describe(case)})"
    if fit is not None and fit.df > 0:
        head += f"; G = {fit.statistic:.1f}, threshold {fit.threshold:.1f} ({fit.df} df, level {stats.LEVEL:g})"
    lines = [head, f"{'token':>5}  {'expected':<{BAR + 8}} {'observed':<{BAR + 8}}"]
    for t in shown:
        note = ""
        if want[t] == 0 and got[t] > 0:
            note = "  not allowed"
        elif want[t] > 0 and counts[t] == 0 and want[t] * n >= 5:
            note = "  never drawn"
        lines.append(f"{t:>5}  {want[t]:6.3f} {_bar(want[t] / peak)} {got[t]:6.3f} {_bar(got[t] / peak)}{note}".rstrip())
    if hidden:
        lines.append(f"       ... and {hidden} more tokens with smaller probabilities")
    return "\n".join(lines)
