# mhajudge: mha-masked
# expect-verdict: accepted
# A correct solution with einsum; -inf fill, NaN rows of a fully masked query replaced by zeros.
import numpy as np


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    L, D = Q.shape
    q = (Q @ Wq).reshape(L, h, D // h)
    k = (K @ Wk).reshape(-1, h, D // h)
    v = (V @ Wv).reshape(-1, h, D // h)
    s = np.einsum("ihd,jhd->hij", q, k) / np.sqrt(D // h)
    if mask is not None:
        s = np.where(np.asarray(mask) > 0.5, s, -np.inf)
    with np.errstate(invalid="ignore"):
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p = p / p.sum(axis=-1, keepdims=True)
    p = np.nan_to_num(p, nan=0.0)
    return np.einsum("hij,jhd->ihd", p, v).reshape(L, D) @ Wo
