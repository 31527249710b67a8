"""The statistics that judge random answers: deterministic, fair, and measured.

Problems whose answer is random (``sampling``, ``attention-block`` in training
mode) are judged on many draws made with seeds that derive from the case's seed,
so a given program gets the same verdict on every run, and a correct program
fails a case only when its fixed draws happen to be extreme, which must almost
never happen. Two tests are used.

Goodness of fit of a discrete distribution: the G-test
-------------------------------------------------------

``G = 2 * sum(O * ln(O / E))`` over the cells, against the chi-square law with
``cells - 1`` degrees of freedom. Cells whose expected count ``E`` is below
``MIN_EXPECTED = 5`` are pooled into one cell (the smallest first, grown until it
reaches 5), as the textbooks do.

*The level.* A case fails when the p-value of G is below ``LEVEL = 1e-8``: a
correct sampler fails a case far less than once in a million (below 3e-8 in fact,
see the next paragraph), and a judged run, which holds about fifteen such tests,
less than once in two million runs.

*Why the G-test and not Pearson's chi-square.* The level is far in the tail,
where the chi-square approximation of Pearson's statistic is poor: one cell with
expected count 5 that receives 20 draws contributes ``15**2 / 5 = 45`` although
that happens with probability 2.6e-7. Computed exactly (tests/test_stats.py
sums the binomial and trinomial laws), Pearson's statistic at the 1e-8 quantile
rejects a correct sampler 10 to 8000 times too often when a cell's expected count
is between 1 and 50. The G statistic is the log-likelihood ratio, whose tail is
``exp(-G/2)`` times a polynomial, like the chi-square law's: exactly computed, its
true rejection rate at the 1e-8 quantile stays between 0.1 and 2.6 times 1e-8 for
the same cells. So the real per-case false rejection is below about 3e-8.

*Power.* Generators draw cases whose named mistakes move the expected G far past
the threshold (``separates``): a sampler with the mistake then fails with
certainty for practical purposes, and a correct one passes.

Means and spreads of a random array: z-tests over independent calls
------------------------------------------------------------------

Each call gets its own independently seeded generator, so the N answers are
independent draws of a random array ``Y`` whose exact mean ``mu`` and variance
``var`` (per element) the judge computes in closed form.

- Mean: every element's sample mean must lie within ``Z_MEAN`` standard errors
  of ``mu``, the standard error being the *observed* spread ``s / sqrt(N)`` (the
  mean test holds whatever the spread is), plus the case's float tolerance.
- Spread: ``T_n = sum_e (Y_ne - mean_e)**2 * N / (N - 1)`` is one number per
  call; its average estimates ``sum_e var_e`` without bias, and the calls are
  independent, so ``(mean(T) - sum(var)) / (sd(T) / sqrt(N))`` is a z-score.

*The level.* ``Z = 7``. For a normal z-score, ``P(|z| > 7) = 2.6e-12``; the mean
test takes the largest of at most a few hundred elements (a union bound gives
below 1e-9). The draws are skewed (a dropout mask keeps or drops), which makes the
tails of a mean of N = 1000 draws heavier than the normal's; Edgeworth and
moderate-deviation corrections at z = 7 stay below a factor of a thousand for the
skewness met here, leaving a per-case rate below 1e-6. The measurement, 200
secrets with the reference (benchmarks/false_rejections.py), is the check on that
argument. Mistakes miss by tens of standard errors, so the margin costs nothing.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

LEVEL = 1e-8          # per-case significance level of the G-test
MIN_EXPECTED = 5.0    # cells expected fewer times are pooled
Z = 7.0               # z-score bound of the mean and spread tests


# -- the chi-square law ----------------------------------------------------------

def gammaincc(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function ``Q(a, x)``.

    A power series for ``P = 1 - Q`` when ``x < a + 1``, else a continued fraction
    (modified Lentz) for ``Q`` itself, so tiny tail values keep full precision.
    """
    if a <= 0:
        raise ValueError(f"gammaincc needs a > 0, got {a}")
    if x <= 0:
        return 1.0
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        return max(0.0, 1.0 - _lower_series(a, x))
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_prefactor) * h


def chi2_sf(x: float, df: int) -> float:
    """``P(X >= x)`` for X chi-square with ``df`` degrees of freedom."""
    return gammaincc(df / 2, x / 2)


@functools.lru_cache(maxsize=None)
def chi2_isf(alpha: float, df: int) -> float:
    """The ``x`` with ``chi2_sf(x, df) == alpha`` (bisection to full precision)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    lo, hi = 0.0, max(1.0, 2.0 * df)
    while chi2_sf(hi, df) > alpha:
        lo, hi = hi, 2 * hi
    for _ in range(200):
        mid = (lo + hi) / 2
        if chi2_sf(mid, df) > alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return hi


def normal_two_sided(z: float) -> float:
    """``P(|Z| > z)`` for a standard normal Z (the chi-square law with 1 df at z**2)."""
    return chi2_sf(z * z, 1)


# -- goodness of fit ------------------------------------------------------------

@dataclass
class Fit:
    statistic: float      # G
    df: int
    threshold: float      # the chi-square quantile at LEVEL
    p_value: float
    cells: list           # token indices of each (pooled) cell

    @property
    def reject(self) -> bool:
        return self.df > 0 and self.statistic > self.threshold


def pooled_cells(expected: np.ndarray, min_expected: float = MIN_EXPECTED) -> list:
    """Cells of positive expected count; the small ones pooled until the pool reaches ``min_expected``."""
    support = np.flatnonzero(expected > 0)
    order = support[np.argsort(expected[support], kind="stable")]
    k = int(np.sum(expected[order] < min_expected))
    if k:
        while k < len(order) and expected[order[:k]].sum() < min_expected:
            k += 1
        return [order[:k]] + [order[i:i + 1] for i in range(k, len(order))]
    return [order[i:i + 1] for i in range(len(order))]


def g_statistic(observed: np.ndarray, expected: np.ndarray) -> float:
    """``2 * sum(O ln(O / E))``; an empty cell contributes nothing."""
    o = np.asarray(observed, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    nz = o > 0
    return float(2.0 * np.sum(o[nz] * np.log(o[nz] / e[nz])))


def g_test(counts: np.ndarray, probs: np.ndarray, level: float = LEVEL) -> Fit:
    """Do ``counts`` (draws per token) fit ``probs``? Draws outside the support are the caller's business."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    expected = n * np.asarray(probs, dtype=np.float64)
    cells = pooled_cells(expected)
    o = np.array([counts[c].sum() for c in cells])
    e = np.array([expected[c].sum() for c in cells])
    df = len(cells) - 1
    if df <= 0:
        return Fit(0.0, 0, math.inf, 1.0, cells)
    # Rescale so that the observed and expected totals agree (draws outside the
    # support were removed by the caller).
    e = e * (o.sum() / e.sum()) if e.sum() > 0 else e
    g = g_statistic(o, e)
    return Fit(g, df, chi2_isf(level, df), chi2_sf(g, df), cells)


def expected_g(draw_probs: np.ndarray, test_probs: np.ndarray, n: int) -> float:
    """G expected when ``n`` draws from ``draw_probs`` are tested against ``test_probs``.

    Twice n times the Kullback-Leibler divergence over the pooled cells of the test
    (the noncentrality of G): far above the threshold means the test separates them.
    Draws that ``test_probs`` forbids are counted separately (see ``forbidden_mass``).
    """
    test_probs = np.asarray(test_probs, dtype=np.float64)
    inside = np.where(test_probs > 0, draw_probs, 0.0)
    if inside.sum() <= 0:
        return math.inf
    cells = pooled_cells(n * test_probs)
    q = np.array([inside[c].sum() for c in cells]) / inside.sum()
    p = np.array([test_probs[c].sum() for c in cells])
    nz = q > 0
    return float(2 * n * np.sum(q[nz] * np.log(q[nz] / p[nz])))


def forbidden_mass(draw_probs: np.ndarray, test_probs: np.ndarray) -> float:
    """The probability that one draw from ``draw_probs`` lands where ``test_probs`` is 0."""
    return float(np.sum(np.where(np.asarray(test_probs) > 0, 0.0, draw_probs)))


def separates(draw_probs, test_probs, n: int, level: float = LEVEL) -> bool:
    """Would ``n`` draws from ``draw_probs`` fail the test against ``test_probs`` all but surely?

    Either a forbidden token shows up (missed with probability ``(1 - m)**n < e**-30``)
    or the expected G is four times the threshold (G's spread is about ``2 sqrt(G)``,
    so the threshold sits many standard deviations below).
    """
    if not np.all(np.isfinite(draw_probs)):
        return True
    if forbidden_mass(draw_probs, test_probs) * n >= 30:
        return True
    df = max(1, len(pooled_cells(n * np.asarray(test_probs, dtype=np.float64))) - 1)
    return expected_g(draw_probs, test_probs, n) >= 4 * chi2_isf(level, df)


def gammainc(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function ``P(a, x)``, by its power series
    (no ``1 - Q``: tiny values keep full precision); for ``x`` well past ``a`` use ``gammaincc``."""
    if x <= 0:
        return 0.0
    if x >= a + 1:
        return 1.0 - gammaincc(a, x)
    return _lower_series(a, x)


def _lower_series(a: float, x: float) -> float:
    """``P(a, x)`` by its power series (converges fast for ``x < a + 1``)."""
    term = total = 1.0 / a
    n = a
    for _ in range(100_000):
        n += 1
        term *= x / n
        total += term
        if abs(term) < abs(total) * 1e-17:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def miss_probability(noncentrality: float, df: int, threshold: float) -> float:
    """``P(X <= threshold)`` for X noncentral chi-square (``df``, ``noncentrality``): the chance
    that a G-test misses a law whose expected G excess is ``noncentrality`` (``expected_g``).
    A Poisson mixture of central chi-square laws, over the Poisson weights that matter."""
    half = noncentrality / 2
    if half <= 0:
        return gammainc(df / 2, threshold / 2)
    spread = int(12 * math.sqrt(half)) + 12
    total = 0.0
    for j in range(max(0, int(half) - spread), int(half) + spread):
        log_w = -half + j * math.log(half) - math.lgamma(j + 1)
        if log_w > -745:
            total += math.exp(log_w) * gammainc(df / 2 + j, threshold / 2)
    return total


def power_miss(draw_probs, test_probs, n: int, level: float = LEVEL) -> float:
    """The chance that ``n`` draws from ``draw_probs`` pass the G-test against ``test_probs``."""
    df = max(1, len(pooled_cells(n * np.asarray(test_probs, dtype=np.float64))) - 1)
    return miss_probability(expected_g(draw_probs, test_probs, n), df, chi2_isf(level, df))


def draws_for_power(draw_probs, test_probs, miss: float = 1e-6, level: float = LEVEL,
                    step: int = 1000, most: int = 10**6) -> int | None:
    """The fewest draws (a multiple of ``step``) with which the G-test rejects draws from
    ``draw_probs`` against ``test_probs`` except with probability ``miss`` (the noncentral
    chi-square law of G, by bisection); None past ``most``."""
    if power_miss(draw_probs, test_probs, most, level) > miss:
        return None
    lo, hi = 0, most // step          # in steps: lo fails (or is 0), hi passes
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if power_miss(draw_probs, test_probs, mid * step, level) <= miss:
            hi = mid
        else:
            lo = mid
    return hi * step


# -- means and spreads --------------------------------------------------------------

@dataclass
class MeanTest:
    ok: bool
    index: tuple          # the worst element
    deviation: float      # |sample mean - mu| there
    bound: float          # what was allowed there
    z: float              # deviation in standard errors (inf when the spread is 0)


def mean_test(samples: np.ndarray, mu: np.ndarray, atol: float, rtol: float, z: float = Z) -> MeanTest:
    """Each element's mean over the calls (axis 0) within ``z`` observed standard errors of ``mu``."""
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.shape[0]
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.zeros_like(mean)
    deviation = np.abs(mean - mu)
    bound = z * se + atol + rtol * np.abs(mu)
    excess = deviation - bound
    flat = int(np.argmax(excess)) if excess.size else 0
    idx = np.unravel_index(flat, deviation.shape) if deviation.ndim else ()
    with np.errstate(divide="ignore", invalid="ignore"):
        zs = float(deviation[idx] / se[idx]) if se[idx] > 0 else (math.inf if deviation[idx] > 0 else 0.0)
    return MeanTest(bool(excess.max() <= 0) if excess.size else True,
                    tuple(int(i) for i in idx), float(deviation[idx]), float(bound[idx]), zs)


@dataclass
class SpreadTest:
    ok: bool
    observed: float       # sum of the per-element sample variances
    expected: float       # sum of the exact variances
    z: float


def spread_test(samples: np.ndarray, var: np.ndarray, z: float = Z) -> SpreadTest:
    """Is the total variance of the calls (axis 0) consistent with ``sum(var)``?"""
    samples = np.asarray(samples, dtype=np.float64)
    n = samples.shape[0]
    flat = samples.reshape(n, -1)
    centred = flat - flat.mean(axis=0)
    t = np.sum(centred ** 2, axis=1) * n / (n - 1)        # (N,): one number per call
    observed, expected = float(t.mean()), float(np.sum(var))
    se = float(t.std(ddof=1)) / math.sqrt(n)
    if se == 0:
        zs = 0.0 if math.isclose(observed, expected, rel_tol=1e-9, abs_tol=1e-12) else math.inf
    else:
        zs = (observed - expected) / se
    return SpreadTest(abs(zs) <= z, observed, expected, zs)
