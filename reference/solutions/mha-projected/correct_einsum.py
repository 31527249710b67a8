# mhajudge: mha-projected
# expect-verdict: accepted
# A correct solution with einsum, a -inf fill and a guard: a fully masked row gives zeros.
import numpy as np


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None):
    B, Lq, E = query.shape
    if E % num_heads != 0:
        raise ValueError("num_heads must divide E")
    d = E // num_heads
    q = np.einsum("ble,ef->blf", query, W_q).reshape(B, Lq, num_heads, d)
    k = np.einsum("ble,ef->blf", key, W_k).reshape(B, -1, num_heads, d)
    v = np.einsum("ble,ef->blf", value, W_v).reshape(B, -1, num_heads, d)
    s = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(d)
    if mask is not None:
        s = np.where(np.asarray(mask, dtype=bool), s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    m = np.where(np.isneginf(m), 0.0, m)
    p = np.exp(s - m)
    z = p.sum(axis=-1, keepdims=True)
    p = p / np.where(z == 0, 1.0, z)
    out = np.einsum("bhqk,bkhd->bqhd", p, v).reshape(B, Lq, E)
    return out @ W_o, p
