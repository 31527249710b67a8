"""Attention computed block by block with an online softmax (FlashAttention).

For one block of queries, the keys are visited one block at a time. Each query
keeps a running maximum ``m``, a running sum ``l`` of ``exp(score - m)`` and an
unnormalised output ``acc``. When a new block raises the maximum, the old sum and
output were measured against the old maximum, so both are multiplied by
``exp(m_old - m_new)`` first. Memory: one ``(block, block)`` tile of scores, never
the whole ``L x L`` matrix.
"""

import math

import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    B, H, L, d = Q.shape                                             # Q, K, V (B, H, L, d)
    scale = 1.0 / math.sqrt(d)
    out = np.empty_like(Q)
    for i0 in range(0, L, block_size):
        i1 = min(i0 + block_size, L)
        q = Q[:, :, i0:i1] * scale                                   # (B, H, bq, d)
        m = np.full((B, H, i1 - i0, 1), -np.inf, dtype=Q.dtype)      # running max
        l = np.zeros((B, H, i1 - i0, 1), dtype=Q.dtype)              # running sum of exp
        acc = np.zeros((B, H, i1 - i0, d), dtype=Q.dtype)            # running output
        for j0 in range(0, i1 if causal else L, block_size):         # causal: keys up to the last query
            j1 = min(j0 + block_size, L)
            s = q @ K[:, :, j0:j1].swapaxes(-1, -2)                  # (B, H, bq, bk)
            if causal:
                keep = np.arange(i0, i1)[:, None] >= np.arange(j0, j1)[None, :]
                s = np.where(keep, s, -np.inf)
            m_new = np.maximum(m, s.max(axis=-1, keepdims=True))     # finite: every query sees key 0
            p = np.exp(s - m_new)                                    # (B, H, bq, bk)
            alpha = np.exp(m - m_new)                                # rescales the old sum and output
            l = alpha * l + p.sum(axis=-1, keepdims=True)
            acc = alpha * acc + p @ V[:, :, j0:j1]
            m = m_new
        out[:, :, i0:i1] = acc / l
    return out
