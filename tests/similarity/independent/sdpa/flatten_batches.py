# mhajudge: sdpa
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    # Bring every operand to a common (N, L, d) stack, attend one item at a time.
    Q, K, V = (np.asarray(t, dtype=np.float64) for t in (Q, K, V))
    batch = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    lq, lk = Q.shape[-2], K.shape[-2]
    if mask is None:
        allowed = np.ones(batch + (lq, lk), dtype=bool)
    else:
        allowed = np.broadcast_to(np.asarray(mask).astype(bool), batch + (lq, lk))
    qs = np.broadcast_to(Q, batch + Q.shape[-2:]).reshape(-1, lq, Q.shape[-1])
    ks = np.broadcast_to(K, batch + K.shape[-2:]).reshape(-1, lk, K.shape[-1])
    vs = np.broadcast_to(V, batch + V.shape[-2:]).reshape(-1, lk, V.shape[-1])
    allowed = allowed.reshape(-1, lq, lk)
    outs, probs = [], []
    scale = 1.0 / np.sqrt(Q.shape[-1])
    for n in range(qs.shape[0]):
        logits = np.dot(qs[n], ks[n].T) * scale
        logits[~allowed[n]] = -np.inf
        peak = logits.max(axis=1)
        peak[np.isinf(peak)] = 0.0
        num = np.exp(logits - peak[:, None])
        den = num.sum(axis=1)
        den[den == 0] = 1.0
        p = num / den[:, None]
        probs.append(p)
        outs.append(np.dot(p, vs[n]))
    out = np.stack(outs).reshape(batch + (lq, V.shape[-1]))
    return out, np.stack(probs).reshape(batch + (lq, lk))
