# mhajudge: mha-batched
import numpy as np


def split_heads(t, heads):
    b, n, d = t.shape
    return t.reshape(b, n, heads, d // heads).transpose(0, 2, 1, 3)


def merge_heads(t):
    b, h, n, dk = t.shape
    return t.transpose(0, 2, 1, 3).reshape(b, n, h * dk)


def attention(q, k, v):
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
    s -= s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    return (p / p.sum(axis=-1, keepdims=True)) @ v


def multi_head_attention(Q, K, V, n_heads):
    return merge_heads(attention(split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads)))
