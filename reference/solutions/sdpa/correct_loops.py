# mhajudge: sdpa
# expect-verdict: accepted
# A correct solution written with Python loops over rows and a -1e9 fill.
import math

import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    Q, K, V = np.asarray(Q, float), np.asarray(K, float), np.asarray(V, float)
    lead = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2])
    Lq, Lk = Q.shape[-2], K.shape[-2]
    Q = np.broadcast_to(Q, lead + Q.shape[-2:])
    K = np.broadcast_to(K, lead + K.shape[-2:])
    V = np.broadcast_to(V, lead + V.shape[-2:])
    keep = np.ones(lead + (Lq, Lk), bool) if mask is None else np.broadcast_to(np.asarray(mask) != 0, lead + (Lq, Lk))
    weights = np.zeros(lead + (Lq, Lk))
    for idx in np.ndindex(*lead):
        for i in range(Lq):
            row = [float(Q[idx][i] @ K[idx][j]) / math.sqrt(Q.shape[-1]) if keep[idx][i, j] else -1e9
                   for j in range(Lk)]
            top = max(row)
            e = [math.exp(s - top) for s in row]
            total = sum(e)
            weights[idx][i] = [x / total for x in e]
    return weights @ V, weights
