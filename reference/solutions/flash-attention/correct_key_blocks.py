# mhajudge: flash-attention
# expect-verdict: accepted
# Every query at once, one block of keys at a time: an (L, block_size) strip of
# scores, never L x L. Rows that see no key of a causal block are guarded.
import math

import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    L, d = Q.shape[-2], Q.shape[-1]
    Q = Q * (1.0 / math.sqrt(d))
    m = np.full(Q.shape[:-1], -np.inf)
    l = np.zeros(Q.shape[:-1])
    acc = np.zeros(Q.shape)
    rows = np.arange(L)
    for start in range(0, L, block_size):
        stop = min(start + block_size, L)
        s = np.einsum("bhqd,bhkd->bhqk", Q, K[..., start:stop, :])
        if causal:
            s[..., rows[:, None] < np.arange(start, stop)[None, :]] = -np.inf
        m_new = np.maximum(m, s.max(axis=-1))
        safe = np.where(np.isneginf(m_new), 0.0, m_new)        # rows with nothing visible yet
        scale_old = np.exp(m - safe)
        p = np.exp(s - safe[..., None])
        l = l * scale_old + p.sum(axis=-1)
        acc = acc * scale_old[..., None] + np.einsum("bhqk,bhkd->bhqd", p, V[..., start:stop, :])
        m = m_new
    return acc / l[..., None]
