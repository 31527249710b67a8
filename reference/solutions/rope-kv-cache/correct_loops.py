# mhajudge: rope-kv-cache
# expect-verdict: accepted
# Loops over batch and heads, a preallocated cache copied entry by entry, each
# feature pair turned with math.cos / math.sin, and a list return value.
import math

import numpy as np


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    B, _, E = x_t.shape
    H, d = num_heads, E // num_heads
    t = 0 if cache is None else cache[0].shape[2]
    K = np.zeros((B, H, t + 1, d))
    V = np.zeros((B, H, t + 1, d))
    out = np.zeros((B, 1, E))
    for b in range(B):
        q_all, k_all, v_all = x_t[b, 0] @ W_q, x_t[b, 0] @ W_k, x_t[b, 0] @ W_v
        for h in range(H):
            q = q_all[h * d:(h + 1) * d].copy()
            k = k_all[h * d:(h + 1) * d].copy()
            for i in range(d // 2):
                a = position / base ** (2 * i / d)
                c, s = math.cos(a), math.sin(a)
                q[i], q[i + d // 2] = q[i] * c - q[i + d // 2] * s, q[i + d // 2] * c + q[i] * s
                k[i], k[i + d // 2] = k[i] * c - k[i + d // 2] * s, k[i + d // 2] * c + k[i] * s
            if t:
                K[b, h, :t], V[b, h, :t] = cache[0][b, h], cache[1][b, h]
            K[b, h, t], V[b, h, t] = k, v_all[h * d:(h + 1) * d]
            scores = K[b, h] @ q / math.sqrt(d)
            w = np.exp(scores - scores.max())
            w /= w.sum()
            out[b, 0, h * d:(h + 1) * d] = w @ V[b, h]
    return (out @ W_o).tolist(), [K, V]
