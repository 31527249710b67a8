# mhajudge: mha-batched
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
# Heads reshaped to (B, L, H, d_k) and attended as they are, with no transpose at all:
# the matmul contracts over d_k and runs over the heads, so each position attends
# across its own heads instead of across the positions.
import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    B, L, d_model = Q.shape
    d_k = d_model // n_heads
    q = Q.reshape(B, L, n_heads, d_k)
    k = K.reshape(B, L, n_heads, d_k)
    v = V.reshape(B, L, n_heads, d_k)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)        # (B, L, H, H)
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return (w @ v).reshape(B, L, d_model)
