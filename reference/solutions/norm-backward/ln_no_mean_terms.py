# mhajudge: norm-backward
# expect-verdict: wrong-answer
# expect-diagnosis: layernorm-backward-no-mean-terms
# Treats the mean and the variance as constants: dx = d_out * gamma / std.
import numpy as np


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    std = np.sqrt(x.var(-1, keepdims=True) + eps)
    xhat = (x - mu) / std
    lead = tuple(range(x.ndim - 1))
    return d_out * gamma / std, (d_out * xhat).sum(lead), d_out.sum(lead)


def rms_norm(x, weight, eps=1e-6):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    r = 1 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    g = d_out * weight
    dx = r * g - r ** 3 * x * np.mean(g * x, axis=-1, keepdims=True)
    return dx, (d_out * x * r).reshape(-1, x.shape[-1]).sum(0)
