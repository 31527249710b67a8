# mhajudge: kv-cache
# expect-verdict: accepted
# A correct step written with loops over batch and heads, a preallocated
# cache copied entry by entry, and a list return value.
import math

import numpy as np


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, _, E = np.shape(x_t)
    dk = E // num_heads
    t = 0 if cache is None else cache[0].shape[2]
    K = np.zeros((B, num_heads, t + 1, dk))
    V = np.zeros((B, num_heads, t + 1, dk))
    if t:
        K[:, :, :t] = cache[0]
        V[:, :, :t] = cache[1]
    concat = np.zeros((B, 1, E))
    for b in range(B):
        q = x_t[b, 0] @ W_q
        k = x_t[b, 0] @ W_k
        v = x_t[b, 0] @ W_v
        for h in range(num_heads):
            cols = slice(h * dk, (h + 1) * dk)
            K[b, h, t] = k[cols]
            V[b, h, t] = v[cols]
            scores = np.array([q[cols] @ K[b, h, j] for j in range(t + 1)]) / math.sqrt(dk)
            p = np.exp(scores - np.max(scores))
            p = p / p.sum()
            concat[b, 0, cols] = p @ V[b, h]
    return [concat @ W_o, [K, V]]
