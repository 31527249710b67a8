# mhajudge: flash-attention
import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    B, H, L, d = Q.shape
    scale = 1.0 / np.sqrt(d)
    running_max = np.full((B, H, L, 1), -np.inf)
    running_sum = np.zeros((B, H, L, 1))
    acc = np.zeros((B, H, L, V.shape[-1]))
    rows = np.arange(L)[:, None]
    for start in range(0, K.shape[2], block_size):
        stop = min(start + block_size, K.shape[2])
        block = np.einsum("bhid,bhjd->bhij", Q, K[:, :, start:stop]) * scale
        if causal:
            cols = np.arange(start, stop)[None, :]
            block = np.where(cols <= rows, block, -np.inf)
        new_max = np.maximum(running_max, block.max(axis=-1, keepdims=True))
        safe = np.where(np.isfinite(new_max), new_max, 0.0)
        correction = np.exp(running_max - safe)
        probs = np.exp(block - safe)
        running_sum = running_sum * correction + probs.sum(axis=-1, keepdims=True)
        acc = acc * correction + np.einsum("bhij,bhjd->bhid", probs, V[:, :, start:stop])
        running_max = new_max
    return acc / running_sum
