# mhajudge: mha-masked
import numpy as np


def heads_of(X, h):
    L, d = X.shape
    return X.reshape(L, h, d // h).swapaxes(0, 1)


def attend(q, k, v, keep):
    s = np.matmul(q, k.swapaxes(-1, -2)) / np.sqrt(q.shape[-1])
    s = np.where(keep, s, -np.inf)
    top = s.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    p = np.exp(s - top)
    z = p.sum(axis=-1, keepdims=True)
    return np.matmul(np.where(z > 0, p / np.maximum(z, 1e-300), 0), v)


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    L, d = Q.shape
    keep = np.ones((L, L), dtype=bool) if mask is None else np.asarray(mask) == 1
    o = attend(heads_of(Q @ Wq, h), heads_of(K @ Wk, h), heads_of(V @ Wv, h), keep)
    return o.swapaxes(0, 1).reshape(L, d) @ Wo
