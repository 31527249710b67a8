# mhajudge: norm-backward
# expect-verdict: accepted
# The staged backward of a computational graph (the cs231n way): every
# intermediate of the forward pass gets its own gradient, then they add up.
import numpy as np


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    D = x.shape[-1]
    lead = tuple(range(x.ndim - 1))
    mu = np.sum(x, axis=-1, keepdims=True) / D
    xc = x - mu
    var = np.sum(xc ** 2, axis=-1, keepdims=True) / D
    std = np.sqrt(var + eps)
    xhat = xc / std
    dxhat = d_out * gamma
    dstd = -np.sum(dxhat * xc, axis=-1, keepdims=True) / std ** 2
    dvar = dstd / (2 * std)
    dxc = dxhat / std + 2 * xc * dvar / D
    dmu = -np.sum(dxc, axis=-1, keepdims=True)
    dx = dxc + dmu / D
    return dx, np.sum(d_out * xhat, axis=lead), np.sum(d_out, axis=lead)


def rms_norm(x, weight, eps=1e-6):
    ms = np.mean(x ** 2, axis=-1, keepdims=True)
    return x / np.sqrt(ms + eps) * weight


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    D = x.shape[-1]
    lead = tuple(range(x.ndim - 1))
    ms = np.mean(x ** 2, axis=-1, keepdims=True)
    denom = np.sqrt(ms + eps)
    dn = d_out * weight                     # d(x / denom)
    ddenom = -np.sum(dn * x, axis=-1, keepdims=True) / denom ** 2
    dms = ddenom / (2 * denom)
    dx = dn / denom + 2 * x * dms / D
    return dx, np.sum(d_out * x / denom, axis=lead)
