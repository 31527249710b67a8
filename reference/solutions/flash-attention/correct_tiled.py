# mhajudge: flash-attention
# expect-verdict: accepted
# Query blocks x key blocks, skipping the key blocks a causal query block cannot see.
import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    B, H, L, d = Q.shape
    out = np.zeros_like(Q)
    for qs in range(0, L, block_size):
        qe = min(qs + block_size, L)
        q = Q[:, :, qs:qe] / np.sqrt(d)
        row_max = np.full(q.shape[:-1] + (1,), -np.inf)
        row_sum = np.zeros(q.shape[:-1] + (1,))
        o = np.zeros(q.shape)
        last = qe if causal else L
        for ks in range(0, last, block_size):
            ke = min(ks + block_size, L)
            s = q @ np.swapaxes(K[:, :, ks:ke], 2, 3)
            if causal and ke > qs:
                rows = np.arange(qs, qe)[:, None]
                cols = np.arange(ks, ke)[None, :]
                s = np.where(cols <= rows, s, -np.inf)
            new_max = np.maximum(row_max, s.max(axis=-1, keepdims=True))
            correction = np.exp(row_max - new_max)
            p = np.exp(s - new_max)
            row_sum = row_sum * correction + p.sum(axis=-1, keepdims=True)
            o = o * correction + p @ V[:, :, ks:ke]
            row_max = new_max
        out[:, :, qs:qe] = o / row_sum
    return out
