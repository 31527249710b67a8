# mhajudge: flash-attention
# expect-verdict: wrong-answer
# expect-diagnosis: no-scale
# A correct online softmax over scores that were never divided by sqrt(d).
import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    B, H, L, d = Q.shape
    out = np.zeros_like(Q)
    for qs in range(0, L, block_size):
        qe = min(qs + block_size, L)
        q = Q[:, :, qs:qe]
        m = np.full((B, H, qe - qs, 1), -np.inf)
        l = np.zeros((B, H, qe - qs, 1))
        o = np.zeros((B, H, qe - qs, d))
        for ks in range(0, qe if causal else L, block_size):
            ke = min(ks + block_size, L)
            s = q @ K[:, :, ks:ke].transpose(0, 1, 3, 2)
            if causal:
                s = np.where(np.arange(ks, ke)[None, :] <= np.arange(qs, qe)[:, None], s, -np.inf)
            m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
            c = np.exp(m - m_new)
            p = np.exp(s - m_new)
            l = c * l + p.sum(axis=-1, keepdims=True)
            o = c * o + p @ V[:, :, ks:ke]
            m = m_new
        out[:, :, qs:qe] = o / l
    return out
