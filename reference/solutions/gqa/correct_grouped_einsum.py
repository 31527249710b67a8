# mhajudge: gqa
# expect-verdict: accepted
# A correct solution that groups the query heads instead of repeating K and V:
# q is (B, G, group, L, d) and each KV head broadcasts over its group. A fully
# masked row gives zero weights.
import numpy as np


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_kv_heads <= 0 or num_heads % num_kv_heads != 0:
        raise ValueError("num_heads must be a positive multiple of num_kv_heads")
    B, L, E = x.shape
    G, d = num_kv_heads, E // num_heads
    r = num_heads // G
    q = (x @ W_q).reshape(B, L, G, r, d)
    k = (x @ W_k).reshape(B, L, G, d)
    v = (x @ W_v).reshape(B, L, G, d)
    s = np.einsum("bigrd,bjgd->bgrij", q, k) / np.sqrt(d)
    if mask is not None:
        keep = np.broadcast_to(np.asarray(mask).astype(bool), (B, num_heads, L, L)).reshape(B, G, r, L, L)
        s = np.where(keep, s, -np.inf)
    m = np.max(s, axis=-1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    e = np.exp(s - m)
    tot = e.sum(axis=-1, keepdims=True)
    w = np.where(tot > 0, e / np.where(tot > 0, tot, 1.0), 0.0)
    out = np.einsum("bgrij,bjgd->bigrd", w, v).reshape(B, L, E)
    return out @ W_o
