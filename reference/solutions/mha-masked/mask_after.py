# mhajudge: mha-masked
# expect-verdict: wrong-answer
# expect-diagnosis: mask-after-softmax
import numpy as np


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    L, d_model = Q.shape
    d_k = d_model // h
    q = (Q @ Wq).reshape(L, h, d_k).transpose(1, 0, 2)
    k = (K @ Wk).reshape(L, h, d_k).transpose(1, 0, 2)
    v = (V @ Wv).reshape(L, h, d_k).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(d_k)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    if mask is not None:
        w = w * mask
    return (w @ v).transpose(1, 0, 2).reshape(L, d_model) @ Wo
