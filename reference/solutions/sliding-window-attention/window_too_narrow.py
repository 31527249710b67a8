# mhajudge: sliding-window-attention
# expect-verdict: wrong-answer
# expect-diagnosis: window-off-by-one
# np.triu(..., k=-window + 2) keeps only window - 1 keys; with window = 1 no key is
# left at all and the unguarded -inf fill gives NaN rows.
import numpy as np


def sliding_window_attention(x, W_q, W_k, W_v, W_o, num_heads, window):
    if window < 1:
        raise ValueError("window must be >= 1")
    B, L, E = x.shape
    d = E // num_heads
    heads = lambda a: a.reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = heads(x @ W_q), heads(x @ W_k), heads(x @ W_v)
    keep = np.triu(np.tril(np.ones((L, L), dtype=bool)), k=-window + 2)
    s = np.where(keep, q @ k.transpose(0, 1, 3, 2) / np.sqrt(d), -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E) @ W_o, w
