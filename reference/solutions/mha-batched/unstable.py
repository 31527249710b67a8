# mhajudge: mha-batched
# expect-verdict: wrong-answer
# expect-diagnosis: unstable-softmax
import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    B, L, D = Q.shape
    d_k = D // n_heads
    split = lambda x: x.reshape(B, L, n_heads, d_k).transpose(0, 2, 1, 3)
    q, k, v = split(Q), split(K), split(V)
    p = np.exp(q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k))
    p = p / p.sum(-1, keepdims=True)
    return (p @ v).transpose(0, 2, 1, 3).reshape(B, L, D)
