"""LayerNorm and RMSNorm over the last axis, and their gradients by hand.

    LayerNorm: xhat = (x - mean) / sqrt(var + eps),   y = xhat * gamma + beta   (biased var)
    RMSNorm:   r = 1 / sqrt(mean(x**2) + eps),         y = x * r * weight

The upstream gradient ``d_out`` is dLoss/dy for loss = sum(y * d_out). Parameter
gradients sum over every leading axis. Each x_i enters the mean and the variance
(or the mean square) of its row, which gives dx its correction terms:

    LayerNorm: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),   g = d_out * gamma
    RMSNorm:   dx = r * (g - x * r**2 * mean(g * x)),                g = d_out * weight
"""

import numpy as np


def _leading(a):
    """The axes a parameter gradient sums over: all but the last."""
    return tuple(range(a.ndim - 1))


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)                            # (..., 1)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)             # (..., 1) biased
    rstd = 1.0 / np.sqrt(var + eps)                                  # (..., 1)
    xhat = (x - mean) * rstd                                         # (..., D)
    dbeta = d_out.sum(axis=_leading(x))                              # (D,)
    dgamma = (d_out * xhat).sum(axis=_leading(x))                    # (D,)
    g = d_out * gamma                                                # (..., D) dLoss/dxhat
    dx = rstd * (g - g.mean(axis=-1, keepdims=True)
                 - xhat * (g * xhat).mean(axis=-1, keepdims=True))   # (..., D)
    return dx, dgamma, dbeta


def rms_norm(x, weight, eps=1e-6):
    r = 1.0 / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
    return x * r * weight                                            # (..., D)


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    r = 1.0 / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps)  # (..., 1)
    dweight = (d_out * x * r).sum(axis=_leading(x))                  # (D,)
    g = d_out * weight                                               # (..., D) dLoss/d(x * r)
    dx = r * (g - x * r ** 2 * (g * x).mean(axis=-1, keepdims=True))  # (..., D)
    return dx, dweight
