# mhajudge: causal-attention
import math

import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, T, C = x.shape
    size = C // num_heads
    queries, keys, values = np.dot(x, W_q), np.dot(x, W_k), np.dot(x, W_v)
    attn = np.zeros((B, num_heads, T, T))
    mixed = np.zeros((B, T, C))
    for bi in range(B):
        for hi in range(num_heads):
            sl = slice(hi * size, (hi + 1) * size)
            for t in range(T):
                # only the prefix 0..t is visible: causality by construction
                past = keys[bi, : t + 1, sl]
                sims = past @ queries[bi, t, sl] / math.sqrt(size)
                sims = np.exp(sims - sims.max())
                sims /= sims.sum()
                attn[bi, hi, t, : t + 1] = sims
                mixed[bi, t, sl] = sims @ values[bi, : t + 1, sl]
    return mixed @ W_o, attn
