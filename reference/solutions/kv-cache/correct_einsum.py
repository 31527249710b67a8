# mhajudge: kv-cache
# expect-verdict: accepted
# A correct step with einsum and a fused QKV projection.
import numpy as np


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, _, E = x_t.shape
    d = E // num_heads
    qkv = x_t[:, 0] @ np.concatenate([W_q, W_k, W_v], axis=1)       # (B, 3E)
    q, k, v = (qkv[:, i * E:(i + 1) * E].reshape(B, num_heads, 1, d) for i in range(3))
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=-2)
        v = np.concatenate([cache[1], v], axis=-2)
    scores = np.einsum("bhqd,bhkd->bhqk", q, k) * d ** -0.5
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    out = np.einsum("bhqk,bhkd->bqhd", p, v).reshape(B, 1, E)
    return out @ W_o, (k, v)
