# mhajudge: gqa
# expect-verdict: accepted
# A correct solution with plain loops over batch, heads and queries; -1e9 fill.
import math

import numpy as np


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_heads % num_kv_heads != 0:
        raise ValueError("num_kv_heads must divide num_heads")
    B, L, E = x.shape
    d = E // num_heads
    per_kv = num_heads // num_kv_heads
    Q, K, V = x @ W_q, x @ W_k, x @ W_v
    keep = np.ones((B, num_heads, L, L)) if mask is None else np.broadcast_to(mask, (B, num_heads, L, L))
    concat = np.zeros((B, L, E))
    for b in range(B):
        for h in range(num_heads):
            g = h // per_kv
            for i in range(L):
                s = np.array([Q[b, i, h * d:(h + 1) * d] @ K[b, j, g * d:(g + 1) * d] / math.sqrt(d)
                              if keep[b, h, i, j] else -1e9 for j in range(L)])
                e = np.exp(s - s.max())
                w = e / e.sum()
                concat[b, i, h * d:(h + 1) * d] = w @ V[b, :, g * d:(g + 1) * d]
    return concat @ W_o
