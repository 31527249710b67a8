# mhajudge: mha-batched
import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    batch, length, model = Q.shape
    dk = model // n_heads

    def to_heads(a):
        # (batch, length, model) -> (batch * heads, length, dk)
        return np.swapaxes(a.reshape(batch, length, n_heads, dk), 1, 2).reshape(batch * n_heads, length, dk)

    q, k, v = to_heads(Q), to_heads(K), to_heads(V)
    out = np.empty_like(q)
    for i in range(q.shape[0]):
        sc = np.dot(q[i], k[i].T) / dk ** 0.5
        sc = np.exp(sc - np.amax(sc, axis=1, keepdims=True))
        sc /= np.sum(sc, axis=1, keepdims=True)
        out[i] = np.dot(sc, v[i])
    return np.swapaxes(out.reshape(batch, n_heads, length, dk), 1, 2).reshape(batch, length, model)
