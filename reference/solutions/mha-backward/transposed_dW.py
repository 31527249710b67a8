# mhajudge: mha-backward
# expect-verdict: wrong-answer
# expect-diagnosis: weight-grad-transposed
# Weight gradients computed as dy^T @ x, the transpose.
import numpy as np


def mha_forward_backward(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    B, L, E = x.shape
    H, d = num_heads, E // num_heads
    split = lambda t: t.reshape(B, L, H, d).transpose(0, 2, 1, 3)
    merge = lambda t: t.transpose(0, 2, 1, 3).reshape(B, L, E)
    q, k, v = split(x @ W_q), split(x @ W_k), split(x @ W_v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    if mask is not None:
        s = np.where(mask, s, -1e9)
    a = np.exp(s - s.max(-1, keepdims=True))
    a = a / a.sum(-1, keepdims=True)
    ctx = merge(a @ v)
    out = ctx @ W_o
    dctx = split(d_out @ W_o.T)
    da = dctx @ v.transpose(0, 1, 3, 2)
    dv = merge(a.transpose(0, 1, 3, 2) @ dctx)
    ds = a * (da - (da * a).sum(-1, keepdims=True))
    if mask is not None:
        ds = np.where(mask, ds, 0.0)
    dq = merge(ds @ k) / np.sqrt(d)
    dk = merge(ds.transpose(0, 1, 3, 2) @ q) / np.sqrt(d)
    dx = dq @ W_q.T + dk @ W_k.T + dv @ W_v.T
    wgrad = lambda inp, g: g.reshape(-1, E).T @ inp.reshape(-1, E)     # (E_out, E_in)
    return out, {"x": dx, "W_q": wgrad(x, dq), "W_k": wgrad(x, dk), "W_v": wgrad(x, dv), "W_o": wgrad(ctx, d_out)}
