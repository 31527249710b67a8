# mhajudge: gqa
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
# Reshapes straight to (B, heads, L, d_k) without the transpose (and back the same way).
import numpy as np


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_heads % num_kv_heads != 0:
        raise ValueError("num_heads must be divisible by num_kv_heads")
    B, L, E = x.shape
    d_k = E // num_heads
    group = num_heads // num_kv_heads
    q = (x @ W_q).reshape(B, num_heads, L, d_k)
    k = (x @ W_k).reshape(B, num_kv_heads, L, d_k)
    v = (x @ W_v).reshape(B, num_kv_heads, L, d_k)
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=-1, keepdims=True)
    out = (w @ v).reshape(B, L, E)
    return out @ W_o
