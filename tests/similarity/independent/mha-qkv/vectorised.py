# mhajudge: mha-qkv
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    stacked = np.stack([W_q, W_k, W_v])          # (3, d, d)
    q, k, v = np.einsum("ld,tde->tle", X, stacked)
    return q, k, v


def _attend(q, k, v):
    logits = np.einsum("...id,...jd->...ij", q, k) / np.sqrt(q.shape[-1])
    logits -= np.max(logits, axis=-1, keepdims=True)
    p = np.exp(logits)
    p /= np.sum(p, axis=-1, keepdims=True)
    return np.einsum("...ij,...jd->...id", p, v)


def self_attention(Q, K, V):
    return _attend(Q, K, V)


def multi_head_attention(Q, K, V, n_heads):
    L, dm = Q.shape
    heads = lambda t: t.reshape(L, n_heads, dm // n_heads).transpose(1, 0, 2)
    return _attend(heads(Q), heads(K), heads(V)).transpose(1, 0, 2).reshape(L, dm)
