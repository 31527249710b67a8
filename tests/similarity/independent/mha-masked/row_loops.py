# mhajudge: mha-masked
import math

import numpy as np


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    qp, kp, vp = Q.dot(Wq), K.dot(Wk), V.dot(Wv)
    n, width = qp.shape
    dk = width // h
    concat = np.zeros((n, width))
    for head in range(h):
        lo = head * dk
        for i in range(n):
            scores = []
            for j in range(n):
                if mask is not None and mask[i][j] == 0:
                    scores.append(None)
                else:
                    scores.append(sum(qp[i, lo + c] * kp[j, lo + c] for c in range(dk)) / math.sqrt(dk))
            live = [s for s in scores if s is not None]
            if not live:
                continue
            m = max(live)
            ex = [0.0 if s is None else math.exp(s - m) for s in scores]
            tot = sum(ex)
            for j in range(n):
                concat[i, lo:lo + dk] += ex[j] / tot * vp[j, lo:lo + dk]
    return concat.dot(Wo)
