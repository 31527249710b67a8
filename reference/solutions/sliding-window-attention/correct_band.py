# mhajudge: sliding-window-attention
# expect-verdict: accepted
# The band as the difference of two lower triangles, masked with a -1e9 fill
# (no row is ever empty: every query sees itself).
import numpy as np


def sliding_window_attention(x, W_q, W_k, W_v, W_o, num_heads, window):
    if window < 1:
        raise ValueError("window must be >= 1")
    B, L, E = x.shape
    d = E // num_heads
    heads = lambda a: a.reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = heads(x @ W_q), heads(x @ W_k), heads(x @ W_v)
    band = np.tril(np.ones((L, L)), 0) - np.tril(np.ones((L, L)), -window)
    s = np.where(band > 0, q @ k.transpose(0, 1, 3, 2) / np.sqrt(d), -1e9)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E) @ W_o, w
