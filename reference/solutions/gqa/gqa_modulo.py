# mhajudge: gqa
# expect-verdict: wrong-answer
# expect-diagnosis: gqa-tiled
# A loop over query heads that picks KV head h % num_kv_heads (round-robin).
import math

import numpy as np


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_heads % num_kv_heads:
        raise ValueError(f"{num_heads} query heads cannot share {num_kv_heads} KV heads evenly")
    B, L, E = x.shape
    d = E // num_heads
    Q, K, V = x @ W_q, x @ W_k, x @ W_v
    keep = np.ones((B, num_heads, L, L), bool) if mask is None else np.broadcast_to(np.asarray(mask) != 0, (B, num_heads, L, L))
    heads = []
    for h in range(num_heads):
        g = h % num_kv_heads
        q, k, v = Q[..., h * d:(h + 1) * d], K[..., g * d:(g + 1) * d], V[..., g * d:(g + 1) * d]
        s = np.where(keep[:, h], q @ k.transpose(0, 2, 1) / math.sqrt(d), -np.inf)
        m = s.max(-1, keepdims=True)
        m = np.where(np.isinf(m), 0.0, m)
        e = np.exp(s - m)
        z = e.sum(-1, keepdims=True)
        heads.append(np.divide(e, z, out=np.zeros_like(e), where=z > 0) @ v)
    return np.concatenate(heads, axis=-1) @ W_o
