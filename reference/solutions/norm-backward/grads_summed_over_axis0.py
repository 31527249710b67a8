# mhajudge: norm-backward
# expect-verdict: wrong-answer
# Right for (N, D) inputs, but the parameter gradients sum over axis 0 only: a
# (B, L, D) input gives dgamma of shape (L, D), and a (D,) input a scalar.
import numpy as np


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
    xhat = (x - mu) * rstd
    g = d_out * gamma
    dx = rstd * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    return dx, (d_out * xhat).sum(0), d_out.sum(0)


def rms_norm(x, weight, eps=1e-6):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    r = 1 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    g = d_out * weight
    dx = r * g - r ** 3 * x * np.mean(g * x, axis=-1, keepdims=True)
    return dx, (d_out * x * r).reshape(-1, x.shape[-1]).sum(0)
