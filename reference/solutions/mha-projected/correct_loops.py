# mhajudge: mha-projected
# expect-verdict: accepted
# A correct solution: loops over batch items and heads, a -1e9 fill (uniform weights on a fully masked row).
import math

import numpy as np


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None):
    B, Lq, E = query.shape
    Lk = key.shape[1]
    if E % num_heads:
        raise ValueError(f"E={E} must be divisible by num_heads={num_heads}")
    d = E // num_heads
    Q, K, V = query @ W_q, key @ W_k, value @ W_v
    if mask is None:
        keep = np.ones((B, num_heads, Lq, Lk), dtype=bool)
    else:
        keep = np.broadcast_to(np.asarray(mask) != 0, (B, num_heads, Lq, Lk))
    weights = np.zeros((B, num_heads, Lq, Lk))
    concat = np.zeros((B, Lq, E))
    for b in range(B):
        for h in range(num_heads):
            cols = slice(h * d, (h + 1) * d)
            s = Q[b, :, cols] @ K[b, :, cols].T / math.sqrt(d)
            s = np.where(keep[b, h], s, -1e9)
            s = s - s.max(axis=1, keepdims=True)
            w = np.exp(s)
            w = w / w.sum(axis=1, keepdims=True)
            weights[b, h] = w
            concat[b, :, cols] = w @ V[b, :, cols]
    return concat @ W_o, weights
