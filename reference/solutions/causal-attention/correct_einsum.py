# mhajudge: causal-attention
# expect-verdict: accepted
# A correct solution with einsum and an additive -1e9 mask on the upper triangle.
import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    q = (x @ W_q).reshape(B, L, num_heads, d_k)
    k = (x @ W_k).reshape(B, L, num_heads, d_k)
    v = (x @ W_v).reshape(B, L, num_heads, d_k)
    scores = np.einsum("bihd,bjhd->bhij", q, k) / np.sqrt(d_k)
    scores = scores + np.triu(np.full((L, L), -1e9), k=1)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w /= w.sum(axis=-1, keepdims=True)
    out = np.einsum("bhij,bjhd->bihd", w, v).reshape(B, L, E)
    return out @ W_o, w
