# mhajudge: mha-qkv
# expect-verdict: wrong-answer
# expect-diagnosis: unstable-softmax
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    return X @ W_q, X @ W_k, X @ W_v


def self_attention(Q, K, V):
    e = np.exp(Q @ K.T / np.sqrt(Q.shape[1]))
    return (e / e.sum(axis=1, keepdims=True)) @ V


def multi_head_attention(Q, K, V, n_heads):
    return np.concatenate([self_attention(q, k, v) for q, k, v in
                           zip(np.split(Q, n_heads, axis=1), np.split(K, n_heads, axis=1), np.split(V, n_heads, axis=1))],
                          axis=1)
