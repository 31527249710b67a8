# mhajudge: causal-attention
# expect-verdict: accepted
# A correct solution written with Python loops: each query only looks at keys j <= i.
import math

import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    Q, K, V = x @ W_q, x @ W_k, x @ W_v
    weights = np.zeros((B, num_heads, L, L))
    concat = np.zeros((B, L, E))
    for b in range(B):
        for h in range(num_heads):
            cols = slice(h * d_k, (h + 1) * d_k)
            for i in range(L):
                scores = [float(Q[b, i, cols] @ K[b, j, cols]) / math.sqrt(d_k) for j in range(i + 1)]
                top = max(scores)
                e = [math.exp(s - top) for s in scores]
                total = sum(e)
                for j in range(i + 1):
                    weights[b, h, i, j] = e[j] / total
                    concat[b, i, cols] += weights[b, h, i, j] * V[b, j, cols]
    return concat @ W_o, weights
