# mhajudge: norm-backward
# expect-verdict: wrong-answer
# expect-diagnosis: rmsnorm-backward-no-rms-term
# The forward is right; the backward treats 1/rms as a constant.
import numpy as np


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
    xhat = (x - mu) * rstd
    g = d_out * gamma
    dx = rstd * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    flat = lambda a: a.reshape(-1, x.shape[-1])
    return dx, flat(d_out * xhat).sum(0), flat(d_out).sum(0)


def rms_norm(x, weight, eps=1e-6):
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * weight


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    r = 1 / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps)
    return d_out * weight * r, (d_out * x * r).reshape(-1, x.shape[-1]).sum(0)
