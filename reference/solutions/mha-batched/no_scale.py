# mhajudge: mha-batched
# expect-verdict: wrong-answer
# expect-diagnosis: no-scale
import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    B, L, D = Q.shape
    split = lambda x: x.reshape(B, L, n_heads, D // n_heads).transpose(0, 2, 1, 3)
    q, k, v = split(Q), split(K), split(V)
    s = q @ k.transpose(0, 1, 3, 2)
    p = np.exp(s - s.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    return (p @ v).transpose(0, 2, 1, 3).reshape(B, L, D)
