# mhajudge: mha-masked
# expect-verdict: wrong-answer
# expect-diagnosis: no-scale
# Two defects: no 1/sqrt(d_k), and a -inf fill with no guard (NaN on a fully masked
# row). The mistakes are written in every masking style, the unguarded one too, so
# no-scale explains every failing case, the NaN rows included.
import numpy as np


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    L, d_model = Q.shape
    d_k = d_model // h
    q = (Q @ Wq).reshape(L, h, d_k).transpose(1, 0, 2)
    k = (K @ Wk).reshape(L, h, d_k).transpose(1, 0, 2)
    v = (V @ Wv).reshape(L, h, d_k).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1)
    if mask is not None:
        scores = np.where(mask == 0, -np.inf, scores)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return (w @ v).transpose(1, 0, 2).reshape(L, d_model) @ Wo
