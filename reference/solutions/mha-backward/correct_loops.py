# mhajudge: mha-backward
# expect-verdict: accepted
# A correct solution with loops over batch and heads, the softmax Jacobian
# written out row by row, and a -1e9 fill (a fully masked row is uniform).
import numpy as np


def mha_forward_backward(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    x = np.asarray(x, dtype=np.float64)
    B, L, E = x.shape
    d = E // num_heads
    keep = np.ones((B, num_heads, L, L), bool)
    if mask is not None:
        keep = np.broadcast_to(np.asarray(mask) != 0, keep.shape)
    Q, K, V = x @ W_q, x @ W_k, x @ W_v
    ctx = np.zeros((B, L, E))
    dQ, dK, dV = np.zeros((B, L, E)), np.zeros((B, L, E)), np.zeros((B, L, E))
    dctx = d_out @ W_o.T
    for b in range(B):
        for h in range(num_heads):
            c = slice(h * d, (h + 1) * d)
            q, k, v = Q[b, :, c], K[b, :, c], V[b, :, c]
            s = np.where(keep[b, h], q @ k.T / np.sqrt(d), -1e9)
            a = np.exp(s - s.max(axis=1, keepdims=True))
            a /= a.sum(axis=1, keepdims=True)
            ctx[b, :, c] = a @ v
            g = dctx[b, :, c]
            da = g @ v.T
            dV[b, :, c] = a.T @ g
            ds = np.zeros_like(a)
            for i in range(L):
                jac = np.diag(a[i]) - np.outer(a[i], a[i])
                ds[i] = jac @ da[i]
            ds[~keep[b, h]] = 0.0                       # the filled scores are constants
            dQ[b, :, c] = ds @ k / np.sqrt(d)
            dK[b, :, c] = ds.T @ q / np.sqrt(d)
    out = ctx @ W_o
    flat = lambda a: a.reshape(B * L, E)
    grads = {"x": dQ @ W_q.T + dK @ W_k.T + dV @ W_v.T,
             "W_q": flat(x).T @ flat(dQ), "W_k": flat(x).T @ flat(dK), "W_v": flat(x).T @ flat(dV),
             "W_o": flat(ctx).T @ flat(d_out)}
    return out, grads
