# mhajudge: flash-attention
# expect-verdict: memory-limit
# Right values, but softmax(Q K^T) V builds the whole L x L score matrix.
import numpy as np


def flash_attention(Q, K, V, block_size=64, causal=False):
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if causal:
        L = Q.shape[-2]
        s = np.where(np.tril(np.ones((L, L), dtype=bool)), s, -np.inf)
    w = np.exp(s - s.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    return w @ V
