# mhajudge: mha-batched
# expect-verdict: accepted
# A correct solution with einsum on a (B, L, H, d_k) view, no transposes.
import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    B, L, D = Q.shape
    q, k, v = (x.reshape(B, L, n_heads, D // n_heads) for x in (Q, K, V))
    s = np.einsum("bihd,bjhd->bhij", q, k) * (D // n_heads) ** -0.5
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.einsum("bhij,bjhd->bihd", p, v).reshape(B, L, D)
