# mhajudge: norm-backward
# expect-verdict: wrong-answer
# expect-diagnosis: layernorm-unbiased
# np.std(ddof=1) in the forward pass, and the matching D - 1 in the backward.
import numpy as np


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    D = x.shape[-1]
    xc = x - x.mean(-1, keepdims=True)
    var = (xc ** 2).sum(-1, keepdims=True) / (D - 1)
    std = np.sqrt(var + eps)
    xhat = xc / std
    g = d_out * gamma
    dvar = -0.5 * (g * xc).sum(-1, keepdims=True) / std ** 3
    dxc = g / std + dvar * 2 * xc / (D - 1)
    dx = dxc - dxc.mean(-1, keepdims=True)
    lead = tuple(range(x.ndim - 1))
    return dx, (d_out * xhat).sum(lead), d_out.sum(lead)


def rms_norm(x, weight, eps=1e-6):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    r = 1 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)
    g = d_out * weight
    dx = r * g - r ** 3 * x * np.mean(g * x, axis=-1, keepdims=True)
    return dx, (d_out * x * r).reshape(-1, x.shape[-1]).sum(0)
