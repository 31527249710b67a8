# mhajudge: causal-attention
# expect-verdict: wrong-answer
# expect-diagnosis: scale-d-model
# Scales by sqrt(E), the model width, instead of the head width.
import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    q = (x @ W_q).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    k = (x @ W_k).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    v = (x @ W_v).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(E)
    mask = np.tril(np.ones((L, L), dtype=bool))
    scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=-1, keepdims=True)
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    return out @ W_o, w
