# mhajudge: gqa
# expect-verdict: wrong-answer
# expect-diagnosis: mask-added
# Adds (1 - mask) * -1e9 to the scores: a fully masked row comes out unmasked.
import numpy as np


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_heads % num_kv_heads != 0:
        raise ValueError("num_heads must be divisible by num_kv_heads")
    B, L, E = x.shape
    d_k = E // num_heads
    group = num_heads // num_kv_heads
    q = (x @ W_q).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    k = (x @ W_k).reshape(B, L, num_kv_heads, d_k).transpose(0, 2, 1, 3)
    v = (x @ W_v).reshape(B, L, num_kv_heads, d_k).transpose(0, 2, 1, 3)
    k = np.repeat(k, group, axis=1)
    v = np.repeat(v, group, axis=1)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    if mask is not None:
        scores = scores + (1 - np.asarray(mask, dtype=float)) * -1e9
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=-1, keepdims=True)
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    return out @ W_o
