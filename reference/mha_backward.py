"""Multi-head self-attention, forward and backward by hand.

The loss is ``sum(output * d_out)``, so ``d_out`` is the gradient arriving at the
output; each line of the backward pass undoes one line of the forward pass.
The one that is easy to get wrong is the softmax: with ``A = softmax(S)`` over the
last axis, ``dS = A * (dA - sum(dA * A, axis=-1))``.
"""

import math

import numpy as np


def masked_softmax(scores, keep=None):
    """Softmax over the last axis; ``keep`` False means weight exactly 0 (a row with none kept: all 0)."""
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)           # fully masked rows
    e = np.exp(scores - row_max)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def mha_forward_backward(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    B, L, E = x.shape                                                # x (B, L, E)
    H, d_k = num_heads, E // num_heads

    def split(a):                                                    # (B, L, E) -> (B, H, L, d_k)
        return a.reshape(B, L, H, d_k).transpose(0, 2, 1, 3)

    def merge(a):                                                    # (B, H, L, d_k) -> (B, L, E)
        return a.transpose(0, 2, 1, 3).reshape(B, L, E)

    # forward
    q, k, v = split(x @ W_q), split(x @ W_k), split(x @ W_v)         # (B, H, L, d_k)
    S = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k)                 # (B, H, L, L)
    keep = None if mask is None else np.broadcast_to(np.asarray(mask) != 0, S.shape)
    A = masked_softmax(S, keep)                                      # (B, H, L, L)
    ctx = merge(A @ v)                                               # (B, L, E)
    output = ctx @ W_o                                               # (B, L, E)

    # backward
    dW_o = np.einsum("ble,blf->ef", ctx, d_out)                      # (E, E)
    d_ctx = split(d_out @ W_o.T)                                     # (B, H, L, d_k)
    dA = d_ctx @ v.transpose(0, 1, 3, 2)                             # (B, H, L, L)
    dv = A.transpose(0, 1, 3, 2) @ d_ctx                             # (B, H, L, d_k)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True))             # (B, H, L, L); masked: A = 0
    dq = dS @ k / math.sqrt(d_k)                                     # (B, H, L, d_k)
    dk = dS.transpose(0, 1, 3, 2) @ q / math.sqrt(d_k)               # (B, H, L, d_k)
    dq, dk, dv = merge(dq), merge(dk), merge(dv)                     # (B, L, E)
    grads = {
        "x": dq @ W_q.T + dk @ W_k.T + dv @ W_v.T,                   # x feeds all three
        "W_q": np.einsum("ble,blf->ef", x, dq),
        "W_k": np.einsum("ble,blf->ef", x, dk),
        "W_v": np.einsum("ble,blf->ef", x, dv),
        "W_o": dW_o,
    }
    return output, grads
