"""The named mistakes of norm-backward, as code.

``ln_backward``, ``rms`` and ``rms_backward`` are the right computations with one
keyword naming what goes wrong. RMSNorm's mistakes come in their forward and
backward forms: a candidate who normalises the wrong way does so in both.
"""

from functools import partial

import numpy as np

LN, RMS, RMS_B = "layer_norm_backward", "rms_norm", "rms_norm_backward"


def _leading(a):
    return tuple(range(a.ndim - 1))


def ln_backward(x, gamma, d_out, eps=1e-5, *, mean_terms=True, ddof=0):
    """``mean_terms=False``: dx = g * rstd (the mean and the variance treated as constants);
    ``ddof=1``: the unbiased variance."""
    D = x.shape[-1]
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).sum(axis=-1, keepdims=True) / (D - ddof)
    rstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * rstd
    dbeta = d_out.sum(axis=_leading(x))
    dgamma = (d_out * xhat).sum(axis=_leading(x))
    g = d_out * gamma
    if not mean_terms:
        return g * rstd, dgamma, dbeta
    # d var / d x_i = 2 (x_i - mean) / (D - ddof): the factor D / (D - ddof) on the variance term
    dx = rstd * (g - g.mean(axis=-1, keepdims=True)
                 - xhat * (g * xhat).mean(axis=-1, keepdims=True) * D / (D - ddof))
    return dx, dgamma, dbeta


def _rstd(x, eps, center, eps_outside):
    z = x - x.mean(axis=-1, keepdims=True) if center else x
    ms = (z ** 2).mean(axis=-1, keepdims=True)
    return z, (1.0 / (np.sqrt(ms) + eps) if eps_outside else 1.0 / np.sqrt(ms + eps))


def rms(x, weight, eps=1e-6, *, center=False, eps_outside=False):
    """``center=True``: the mean subtracted (layer norm without beta);
    ``eps_outside=True``: x / (sqrt(mean(x**2)) + eps)."""
    z, r = _rstd(x, eps, center, eps_outside)
    return z * r * weight


def rms_backward(x, weight, d_out, eps=1e-6, *, center=False, eps_outside=False, rms_term=True):
    """The exact gradient of ``rms`` with the same keywords; ``rms_term=False``: dx = g * r
    (r treated as a constant)."""
    D = x.shape[-1]
    z, r = _rstd(x, eps, center, eps_outside)
    dweight = (d_out * z * r).sum(axis=_leading(x))
    g = d_out * weight
    if not rms_term:
        return g * r, dweight
    # d r / d z_j = -s z_j / D with s = r**3 (eps inside) or r**2 / sqrt(ms) (eps outside)
    ms = (z ** 2).mean(axis=-1, keepdims=True)
    s = r ** 2 / np.sqrt(ms) if eps_outside else r ** 3
    dz = g * r - z * s * (g * z).mean(axis=-1, keepdims=True)
    if center:                                           # z = x - mean(x): project out the mean
        dz = dz - dz.mean(axis=-1, keepdims=True)
    return dz, dweight


MISTAKES = {
    "layernorm-backward-no-mean-terms": {LN: partial(ln_backward, mean_terms=False)},
    "layernorm-unbiased": {LN: partial(ln_backward, ddof=1)},
    "rmsnorm-subtracts-mean": {RMS: partial(rms, center=True), RMS_B: partial(rms_backward, center=True)},
    "rmsnorm-eps-outside-sqrt": {RMS: partial(rms, eps_outside=True),
                                 RMS_B: partial(rms_backward, eps_outside=True)},
    "rmsnorm-backward-no-rms-term": {RMS_B: partial(rms_backward, rms_term=False)},
}

ACCEPTED = {}
