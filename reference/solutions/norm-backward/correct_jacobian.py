# mhajudge: norm-backward
# expect-verdict: accepted
# Builds each row's D x D Jacobian explicitly and multiplies: slow, obviously right.
import numpy as np


def _rows(a):
    return a.reshape(-1, a.shape[-1])


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    X, G = _rows(x), _rows(d_out)
    D = X.shape[1]
    dx = np.empty_like(X)
    xhats = np.empty_like(X)
    for n in range(X.shape[0]):
        xc = X[n] - X[n].mean()
        s = np.sqrt((xc ** 2).mean() + eps)
        xhat = xc / s
        J = (np.eye(D) - 1.0 / D - np.outer(xhat, xhat) / D) / s      # d xhat / d x
        dx[n] = J.T @ (G[n] * gamma)
        xhats[n] = xhat
    return dx.reshape(x.shape), (G * xhats).sum(0), G.sum(0)


def rms_norm(x, weight, eps=1e-6):
    X = _rows(x)
    out = np.array([row / np.sqrt((row ** 2).mean() + eps) * weight for row in X])
    return out.reshape(x.shape)


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    X, G = _rows(x), _rows(d_out)
    D = X.shape[1]
    dx, dw = np.empty_like(X), np.zeros(D)
    for n in range(X.shape[0]):
        r = 1 / np.sqrt((X[n] ** 2).mean() + eps)
        J = r * np.eye(D) - r ** 3 * np.outer(X[n], X[n]) / D           # d (x r) / d x
        dx[n] = J.T @ (G[n] * weight)
        dw += G[n] * X[n] * r
    return dx.reshape(x.shape), dw
