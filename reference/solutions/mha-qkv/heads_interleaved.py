# mhajudge: mha-qkv
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    return X @ W_q, X @ W_k, X @ W_v


def self_attention(Q, K, V):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ V


def multi_head_attention(Q, K, V, n_heads):
    L, d_model = Q.shape
    d_k = d_model // n_heads
    # reshape straight to (H, L, d_k): forgets the transpose
    q, k, v = (M.reshape(n_heads, L, d_k) for M in (Q, K, V))
    return self_attention(q, k, v).reshape(L, d_model)
