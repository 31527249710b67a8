# mhajudge: flash-attention
# expect-verdict: wrong-answer
# The running sum made with np.empty instead of np.zeros: it reads whatever the memory
# held (alpha is 0 at the first block, but 0 * NaN is NaN). Judged wrong on every secret.
import math
import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    B, H, L, d = Q.shape
    scale = 1.0 / math.sqrt(d)
    out = np.empty_like(Q)
    for i0 in range(0, L, block_size):
        i1 = min(i0 + block_size, L)
        q = Q[:, :, i0:i1] * scale
        m = np.full((B, H, i1 - i0, 1), -np.inf, dtype=Q.dtype)
        l = np.empty((B, H, i1 - i0, 1), dtype=Q.dtype)
        acc = np.zeros((B, H, i1 - i0, d), dtype=Q.dtype)
        for j0 in range(0, i1 if causal else L, block_size):
            j1 = min(j0 + block_size, L)
            s = q @ K[:, :, j0:j1].swapaxes(-1, -2)
            if causal:
                keep = np.arange(i0, i1)[:, None] >= np.arange(j0, j1)[None, :]
                s = np.where(keep, s, -np.inf)
            m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
            p = np.exp(s - m_new)
            alpha = np.exp(m - m_new)
            l = alpha * l + p.sum(axis=-1, keepdims=True)
            acc = alpha * acc + p @ V[:, :, j0:j1]
            m = m_new
        out[:, :, i0:i1] = acc / l
    return out
