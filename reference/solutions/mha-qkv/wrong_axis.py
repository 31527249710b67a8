# mhajudge: mha-qkv
# expect-verdict: wrong-answer
# expect-diagnosis: softmax-wrong-axis
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    return X @ W_q, X @ W_k, X @ W_v


def self_attention(Q, K, V):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    e = np.exp(scores - scores.max(axis=-2, keepdims=True))
    return e / e.sum(axis=-2, keepdims=True) @ V


def multi_head_attention(Q, K, V, n_heads):
    L, d_model = Q.shape
    split = lambda M: M.reshape(L, n_heads, -1).transpose(1, 0, 2)
    out = self_attention(split(Q), split(K), split(V))
    return out.transpose(1, 0, 2).reshape(L, d_model)
