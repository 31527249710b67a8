# mhajudge: mha-backward
# expect-verdict: accepted
# A correct forward/backward with einsum; a fully masked row gets zero weights.
import numpy as np


def mha_forward_backward(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    B, L, E = x.shape
    H = num_heads
    d = E // H
    heads = lambda a: a.reshape(B, L, H, d)                       # (B, L, H, d), no transpose
    q, k, v = heads(x @ W_q), heads(x @ W_k), heads(x @ W_v)
    s = np.einsum("bihd,bjhd->bhij", q, k) / np.sqrt(d)
    keep = np.ones_like(s, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask).astype(bool), s.shape)
    s = np.where(keep, s, -np.inf)
    m = s.max(-1, keepdims=True)
    m[np.isinf(m)] = 0.0
    p = np.exp(s - m)
    z = p.sum(-1, keepdims=True)
    a = np.where(z > 0, p / np.where(z > 0, z, 1.0), 0.0)
    ctx = np.einsum("bhij,bjhd->bihd", a, v).reshape(B, L, E)
    out = ctx @ W_o

    g_ctx = (d_out @ W_o.T).reshape(B, L, H, d)
    g_a = np.einsum("bihd,bjhd->bhij", g_ctx, v)
    g_v = np.einsum("bhij,bihd->bjhd", a, g_ctx)
    g_s = a * (g_a - np.sum(g_a * a, axis=-1, keepdims=True))
    g_q = np.einsum("bhij,bjhd->bihd", g_s, k) / np.sqrt(d)
    g_k = np.einsum("bhij,bihd->bjhd", g_s, q) / np.sqrt(d)
    g_q, g_k, g_v = (g.reshape(B, L, E) for g in (g_q, g_k, g_v))
    return out, {
        "x": g_q @ W_q.T + g_k @ W_k.T + g_v @ W_v.T,
        "W_q": np.einsum("bli,blj->ij", x, g_q),
        "W_k": np.einsum("bli,blj->ij", x, g_k),
        "W_v": np.einsum("bli,blj->ij", x, g_v),
        "W_o": np.einsum("bli,blj->ij", ctx, d_out),
    }
