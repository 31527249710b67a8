# mhajudge: kv-cache
# expect-verdict: wrong-answer
# expect-diagnosis: no-output-projection
import numpy as np


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x_t.shape
    d = E // num_heads
    split = lambda a: a.reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = split(x_t @ W_q), split(x_t @ W_k), split(x_t @ W_v)
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E), (k, v)
