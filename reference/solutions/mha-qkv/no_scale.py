# mhajudge: mha-qkv
# expect-verdict: wrong-answer
# expect-diagnosis: no-scale
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    return X @ W_q, X @ W_k, X @ W_v


def self_attention(Q, K, V):
    scores = Q @ K.T
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ V


def multi_head_attention(Q, K, V, n_heads):
    d_k = Q.shape[1] // n_heads
    heads = [self_attention(Q[:, i * d_k:(i + 1) * d_k], K[:, i * d_k:(i + 1) * d_k], V[:, i * d_k:(i + 1) * d_k])
             for i in range(n_heads)]
    return np.hstack(heads)
