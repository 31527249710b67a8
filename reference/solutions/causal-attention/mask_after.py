# mhajudge: causal-attention
# expect-verdict: wrong-answer
# expect-diagnosis: mask-after-softmax
# The softmax over every key, then the future zeroed: rows no longer sum to 1.
import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    def split(t):
        return t.reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)   # (B, H, L, d_k)
    q, k, v = split(x @ W_q), split(x @ W_k), split(x @ W_v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)                      # (B, H, L, L)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    w = w * np.tril(np.ones((L, L)))
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    return out @ W_o, w
