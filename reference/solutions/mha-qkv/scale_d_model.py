# mhajudge: mha-qkv
# expect-verdict: wrong-answer
# expect-diagnosis: scale-d-model
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    return X @ W_q, X @ W_k, X @ W_v


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def self_attention(Q, K, V):
    return softmax(Q @ K.T / np.sqrt(Q.shape[-1])) @ V


def multi_head_attention(Q, K, V, n_heads):
    L, d_model = Q.shape
    d_k = d_model // n_heads
    q = Q.reshape(L, n_heads, d_k).transpose(1, 0, 2)
    k = K.reshape(L, n_heads, d_k).transpose(1, 0, 2)
    v = V.reshape(L, n_heads, d_k).transpose(1, 0, 2)
    w = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(d_model))
    return (w @ v).transpose(1, 0, 2).reshape(L, d_model)
