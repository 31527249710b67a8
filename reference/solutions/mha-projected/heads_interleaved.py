# mhajudge: mha-projected
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
import numpy as np


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None):
    B, Lq, E = query.shape
    Lk = key.shape[1]
    if E % num_heads != 0:
        raise ValueError("E must be divisible by num_heads")
    d_k = E // num_heads
    q = (query @ W_q).reshape(B, num_heads, Lq, d_k)      # no transpose
    k = (key @ W_k).reshape(B, num_heads, Lk, d_k)
    v = (value @ W_v).reshape(B, num_heads, Lk, d_k)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    out = (w @ v).reshape(B, Lq, E)
    return out @ W_o, w
