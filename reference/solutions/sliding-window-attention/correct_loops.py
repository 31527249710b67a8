# mhajudge: sliding-window-attention
# expect-verdict: accepted
# A correct solution with Python loops: query i looks at keys max(0, i - window + 1) .. i.
import math

import numpy as np


def sliding_window_attention(x, W_q, W_k, W_v, W_o, num_heads, window):
    if window < 1:
        raise ValueError(f"window={window}: need at least 1")
    B, L, E = x.shape
    d_k = E // num_heads
    Q, K, V = x @ W_q, x @ W_k, x @ W_v
    weights = np.zeros((B, num_heads, L, L))
    concat = np.zeros((B, L, E))
    for b in range(B):
        for h in range(num_heads):
            cols = slice(h * d_k, (h + 1) * d_k)
            for i in range(L):
                keys = range(max(0, i - window + 1), i + 1)
                scores = [float(Q[b, i, cols] @ K[b, j, cols]) / math.sqrt(d_k) for j in keys]
                top = max(scores)
                e = [math.exp(s - top) for s in scores]
                for j, ej in zip(keys, e):
                    weights[b, h, i, j] = ej / sum(e)
                    concat[b, i, cols] += weights[b, h, i, j] * V[b, j, cols]
    return concat @ W_o, weights
