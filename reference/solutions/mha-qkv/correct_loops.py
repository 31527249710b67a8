# mhajudge: mha-qkv
# expect-verdict: accepted
# A correct solution: a Python loop over the heads, slicing the feature columns.
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    return np.dot(X, W_q), np.dot(X, W_k), np.dot(X, W_v)


def self_attention(Q, K, V):
    scores = Q @ K.T / np.sqrt(K.shape[1])
    scores -= scores.max(axis=1, keepdims=True)
    w = np.exp(scores)
    w /= w.sum(axis=1, keepdims=True)
    return w @ V


def multi_head_attention(Q, K, V, n_heads):
    d_k = Q.shape[1] // n_heads
    outs = []
    for h in range(n_heads):
        cols = slice(h * d_k, (h + 1) * d_k)
        outs.append(self_attention(Q[:, cols], K[:, cols], V[:, cols]))
    return np.concatenate(outs, axis=1)
