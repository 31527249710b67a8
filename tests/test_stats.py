"""The statistics that judge random answers (``reference/shared/stats.py``, used by the
sampling and attention-block drivers).

- the chi-square helpers against torch.special.gammaincc and textbook quantiles;
- the claim behind the G-test's level, computed exactly (binomial and trinomial sums);
- the z-tests of means and spreads.

The laws these statistics are applied to are tested with their problems, in
``reference/oracles/sampling.py`` and ``reference/oracles/attention_block.py``.
"""

import math

import numpy as np
import pytest
import torch

from mhajudge import bank

stats = bank.reference_module("stats", "shared")


# -- chi-square helpers ----------------------------------------------------------------

@pytest.mark.parametrize("a", [0.5, 1.0, 1.5, 2.5, 4.0, 10.0, 25.0, 60.0])
@pytest.mark.parametrize("x", [1e-3, 0.1, 0.9, 1.0, 3.0, 10.0, 30.0, 70.0, 150.0])
def test_gammaincc_matches_torch(a, x):
    want = torch.special.gammaincc(torch.tensor(a, dtype=torch.float64), torch.tensor(x, dtype=torch.float64)).item()
    got = stats.gammaincc(a, x)
    assert got == pytest.approx(want, rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("alpha, df, quantile", [
    (0.05, 1, 3.841458820694124), (0.01, 10, 23.209251158954356),
    (0.001, 2, 13.815510557964274), (1e-8, 1, 32.841253361236787),
])
def test_chi2_quantiles_known_values(alpha, df, quantile):
    assert stats.chi2_isf(alpha, df) == pytest.approx(quantile, rel=1e-9)
    assert stats.chi2_sf(quantile, df) == pytest.approx(alpha, rel=1e-9)


@pytest.mark.parametrize("df", [1, 2, 3, 7, 20, 63])
def test_chi2_isf_inverts_sf(df):
    for alpha in (1e-12, 1e-8, 1e-3, 0.5):
        assert stats.chi2_sf(stats.chi2_isf(alpha, df), df) == pytest.approx(alpha, rel=1e-9)


def test_normal_two_sided():
    assert stats.normal_two_sided(1.959963984540054) == pytest.approx(0.05, rel=1e-9)
    assert stats.normal_two_sided(7.0) == pytest.approx(2.559625087771684e-12, rel=1e-8)


# -- the G-test: pooling, and its real rejection rate at the level ---------------------------

def test_pooling_partitions_the_support():
    expected = np.array([0.0, 0.5, 1.0, 2.0, 40.0, 3.0, 100.0, 0.0, 7.0])
    cells = stats.pooled_cells(expected)
    flat = sorted(int(t) for c in cells for t in c)
    assert flat == [1, 2, 3, 4, 5, 6, 8]                      # the support, each token once
    assert all(expected[c].sum() >= stats.MIN_EXPECTED for c in cells)


def _log_factorials(n):
    return np.array([math.lgamma(i + 1) for i in range(n + 1)])


def _g_of(counts, expected):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(np.where(counts > 0, counts, 1) / expected), 0.0)
    return 2 * terms


@pytest.mark.parametrize("n", [1000, 4000])
@pytest.mark.parametrize("small", [1, 2, 5, 10, 20, 50, 200])
def test_g_test_rejects_at_its_level_exact_binomial(n, small):
    """P(G > threshold) summed exactly over Binomial(n, small/n): within a factor 3 of the level.

    Pearson's statistic at the same quantile is off by 10x to 1000x here (the reason for G).
    """
    p = small / n
    k = np.arange(n + 1)
    lf = _log_factorials(n)
    logpmf = lf[n] - lf[k] - lf[n - k] + k * math.log(p) + (n - k) * math.log1p(-p)
    g = _g_of(k, n * p) + _g_of(n - k, n * (1 - p))
    threshold = stats.chi2_isf(stats.LEVEL, 1)
    rate = np.exp(logpmf[g > threshold]).sum()
    assert rate <= 3 * stats.LEVEL
    if small <= 20:
        pearson = (k - n * p) ** 2 / (n * p) + (k - n * p) ** 2 / (n * (1 - p))
        assert np.exp(logpmf[pearson > threshold]).sum() > 10 * stats.LEVEL


@pytest.mark.parametrize("probs", [(0.005, 0.3, 0.695), (0.02, 0.18, 0.8), (1 / 3, 1 / 3, 1 / 3), (0.01, 0.01, 0.98)])
def test_g_test_rejects_at_its_level_exact_trinomial(probs):
    n = 800
    lf = _log_factorials(n)
    k1, k2 = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    k3 = n - k1 - k2
    ok = k3 >= 0
    k3 = np.where(ok, k3, 0)
    p = np.array(probs)
    logpmf = lf[n] - lf[k1] - lf[k2] - lf[k3] + k1 * np.log(p[0]) + k2 * np.log(p[1]) + k3 * np.log(p[2])
    g = _g_of(k1, n * p[0]) + _g_of(k2, n * p[1]) + _g_of(k3, n * p[2])
    rate = np.exp(logpmf[ok & (g > stats.chi2_isf(stats.LEVEL, 2))]).sum()
    assert rate <= 3 * stats.LEVEL


def test_g_test_accepts_right_counts_and_rejects_wrong_ones():
    probs = np.array([0.5, 0.3, 0.15, 0.05, 0.0])
    right = np.array([1010, 590, 298, 102, 0])
    assert not stats.g_test(right, probs).reject
    wrong = np.array([1200, 600, 200, 0, 0])
    fit = stats.g_test(wrong, probs)
    assert fit.reject and fit.df == 3 and fit.p_value < stats.LEVEL


def test_separates_needs_a_real_difference():
    p = np.array([0.5, 0.3, 0.2])
    assert not stats.separates(p, p, 2000)
    assert stats.separates(np.array([0.7, 0.3, 0.0]), p, 2000)          # 0.2 of the mass missing
    assert stats.separates(np.array([0.5, 0.3, 0.1, 0.1]), np.append(p[:2], [0.2, 0.0]), 2000)  # forbidden token


# -- means and spreads: the z-tests ------------------------------------------------------------

def test_mean_and_spread_tests():
    rng = np.random.default_rng(0)
    y = rng.normal(1.0, 2.0, size=(1000, 3, 4))
    mu, var = np.ones((3, 4)), np.full((3, 4), 4.0)
    assert stats.mean_test(y, mu, 1e-6, 1e-5).ok and stats.spread_test(y, var).ok
    assert not stats.mean_test(y + 1.0, mu, 1e-6, 1e-5).ok
    assert not stats.spread_test(y * 1.3, var).ok and not stats.spread_test(y * 0.7, var).ok
    constant = np.ones((50, 2))
    assert stats.mean_test(constant, np.ones(2), 1e-6, 0).ok
    assert not stats.spread_test(constant, np.ones(2)).ok
