# mhajudge: causal-attention
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
# Reshapes straight to (B, H, L, d_k) without the transpose (and back the same way).
import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    q = (x @ W_q).reshape(B, num_heads, L, d_k)
    k = (x @ W_k).reshape(B, num_heads, L, d_k)
    v = (x @ W_v).reshape(B, num_heads, L, d_k)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    mask = np.tril(np.ones((L, L), dtype=bool))
    scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=-1, keepdims=True)
    out = (w @ v).reshape(B, L, E)
    return out @ W_o, w
