# mhajudge: kv-cache
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
# Splits heads by reshaping to (B, 1, d_k, H), so head h gets every H-th feature.
import numpy as np


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x_t.shape
    d = E // num_heads
    split = lambda a: np.moveaxis(a.reshape(B, L, d, num_heads), -1, 1)     # (B, H, L, d)
    q, k, v = split(x_t @ W_q), split(x_t @ W_k), split(x_t @ W_v)
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    out = np.moveaxis(w @ v, 1, -1).reshape(B, L, E)
    return out @ W_o, (k, v)
