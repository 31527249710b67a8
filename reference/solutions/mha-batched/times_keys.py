# mhajudge: mha-batched
# expect-verdict: wrong-answer
# expect-diagnosis: weights-times-keys
import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    B, L, D = Q.shape
    d_k = D // n_heads
    split = lambda x: x.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)
    q, k, v = split(Q), split(K), split(V)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    p = np.exp(s - s.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    return (p @ k).transpose(0, 2, 1, 3).reshape(B, L, D)
