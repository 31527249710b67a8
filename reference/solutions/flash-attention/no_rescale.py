# mhajudge: flash-attention
# expect-verdict: wrong-answer
# expect-diagnosis: flash-no-rescale
# Tracks the running maximum but never rescales the running sum and output.
import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    B, H, L, d = Q.shape
    out = np.zeros_like(Q)
    for qs in range(0, L, block_size):
        qe = min(qs + block_size, L)
        q = Q[:, :, qs:qe] / np.sqrt(d)
        m = np.full((B, H, qe - qs, 1), -np.inf)
        l = np.zeros((B, H, qe - qs, 1))
        o = np.zeros((B, H, qe - qs, d))
        for ks in range(0, qe if causal else L, block_size):
            ke = min(ks + block_size, L)
            s = q @ K[:, :, ks:ke].transpose(0, 1, 3, 2)
            if causal:
                s = np.where(np.arange(ks, ke)[None, :] <= np.arange(qs, qe)[:, None], s, -np.inf)
            m = np.maximum(m, s.max(axis=-1, keepdims=True))
            p = np.exp(s - m)
            l = l + p.sum(axis=-1, keepdims=True)
            o = o + p @ V[:, :, ks:ke]
        out[:, :, qs:qe] = o / l
    return out
