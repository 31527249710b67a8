"""The named mistakes of mha-backward, as code, and the accepted -1e9 convention."""

import math
from functools import partial

import numpy as np

F = "mha_forward_backward"


def forward_backward(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None, *, fill=-np.inf, scale=True,
                     backward_scale=True, softmax_correction=True, dx_paths="qkv", transpose_dW=False):
    """Forward and backward with one thing done wrong (or a -1e9 fill when ``fill`` is finite)."""
    B, L, E = x.shape
    H, d_k = num_heads, E // num_heads
    c = 1 / math.sqrt(d_k) if scale else 1.0

    def split(a):
        return a.reshape(B, L, H, d_k).transpose(0, 2, 1, 3)

    def merge(a):
        return a.transpose(0, 2, 1, 3).reshape(B, L, E)

    q, k, v = split(x @ W_q), split(x @ W_k), split(x @ W_v)
    S = q @ np.swapaxes(k, -1, -2) * c
    keep = np.ones(S.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask) != 0, S.shape)
    S = np.where(keep, S, fill)
    m = S.max(axis=-1, keepdims=True)
    e = np.exp(S - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    A = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    ctx = merge(A @ v)
    output = ctx @ W_o

    d_ctx = split(d_out @ W_o.T)
    dA = d_ctx @ np.swapaxes(v, -1, -2)
    dv = np.swapaxes(A, -1, -2) @ d_ctx
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True)) if softmax_correction else A * dA
    dS = np.where(keep, dS, 0.0)                    # a filled score does not depend on q or k
    cb = c if backward_scale else 1.0
    dq, dk, dv = merge(dS @ k * cb), merge(np.swapaxes(dS, -1, -2) @ q * cb), merge(dv)
    paths = {"q": dq @ W_q.T, "k": dk @ W_k.T, "v": dv @ W_v.T}
    spec = "blf,ble->ef" if transpose_dW else "ble,blf->ef"
    grads = {"x": sum(paths[p] for p in dx_paths),
             "W_q": np.einsum(spec, x, dq), "W_k": np.einsum(spec, x, dk),
             "W_v": np.einsum(spec, x, dv), "W_o": np.einsum(spec, ctx, d_out)}
    return output, grads


def both_fills(**wrong):
    """The mistake as written with a -inf fill and with a -1e9 fill."""
    return [partial(forward_backward, **wrong), partial(forward_backward, fill=-1e9, **wrong)]


MISTAKES = {
    "softmax-backward": {F: both_fills(softmax_correction=False)},
    "no-scale": {F: both_fills(scale=False)},
    "backward-no-scale": {F: both_fills(backward_scale=False)},
    "dx-missing-path": {F: [f for paths in ("q", "v", "qv", "qk", "kv") for f in both_fills(dx_paths=paths)]},
    "weight-grad-transposed": {F: both_fills(transpose_dW=True)},
}

# A fully masked query row may also give uniform weights, as a -1e9 fill does.
ACCEPTED = {F: [partial(forward_backward, fill=-1e9)]}
