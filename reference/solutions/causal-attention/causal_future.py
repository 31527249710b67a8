# mhajudge: causal-attention
# expect-verdict: wrong-answer
# expect-diagnosis: causal-future
# Uses np.triu as the "allowed" mask: every position reads itself and the future.
import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    q = (x @ W_q).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    k = (x @ W_k).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    v = (x @ W_v).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    mask = np.triu(np.ones((L, L)))
    scores = np.where(mask == 1, scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(axis=-1, keepdims=True)
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    return out @ W_o, w
