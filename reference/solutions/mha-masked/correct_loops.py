# mhajudge: mha-masked
# expect-verdict: accepted
# A correct solution: a loop over heads, masked_fill with -1e9 (uniform weights on a fully masked row).
import numpy as np


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    d_model = Q.shape[-1]
    d_k = d_model // h
    q, k, v = Q @ Wq, K @ Wk, V @ Wv
    heads = []
    for i in range(h):
        s = slice(i * d_k, (i + 1) * d_k)
        scores = q[:, s] @ k[:, s].T / np.sqrt(d_k)
        if mask is not None:
            scores = np.where(mask == 0, -1e9, scores)
        heads.append(softmax(scores) @ v[:, s])
    return np.concatenate(heads, axis=-1) @ Wo
