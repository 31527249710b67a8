# mhajudge: mha-qkv
# expect-verdict: accepted
# A correct solution with einsum and np.split for the heads.
import numpy as np


def compute_qkv(X, W_q, W_k, W_v):
    W = np.concatenate([W_q, W_k, W_v], axis=1)
    return tuple(np.split(X @ W, 3, axis=1))


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def self_attention(Q, K, V):
    return np.einsum("ij,jd->id", _softmax(np.einsum("id,jd->ij", Q, K) / np.sqrt(Q.shape[-1])), V)


def multi_head_attention(Q, K, V, n_heads):
    q, k, v = (np.stack(np.split(M, n_heads, axis=1)) for M in (Q, K, V))   # (H, L, d_k)
    w = _softmax(np.einsum("hid,hjd->hij", q, k) / np.sqrt(q.shape[-1]))
    out = np.einsum("hij,hjd->hid", w, v)
    return np.concatenate(list(out), axis=1)
