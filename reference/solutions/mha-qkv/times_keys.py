# mhajudge: mha-qkv
# expect-verdict: wrong-answer
# expect-diagnosis: weights-times-keys
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    return X @ W_q, X @ W_k, X @ W_v


def self_attention(Q, K, V):
    s = Q @ K.T / np.sqrt(Q.shape[1])
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) @ K


def multi_head_attention(Q, K, V, n_heads):
    d = Q.shape[1] // n_heads
    return np.hstack([self_attention(Q[:, h * d:(h + 1) * d], K[:, h * d:(h + 1) * d], V[:, h * d:(h + 1) * d])
                      for h in range(n_heads)])
