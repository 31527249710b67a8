# mhajudge: rope-kv-cache
# expect-verdict: wrong-answer
# expect-diagnosis: rope-interleaved
# Meta's original Llama pairing: features (2i, 2i+1) turn together.
import numpy as np


def rope(x, pos, base):
    d = x.shape[-1]
    theta = pos * base ** (-np.arange(0, d, 2) / d)
    out = np.empty_like(x)
    out[..., 0::2] = x[..., 0::2] * np.cos(theta) - x[..., 1::2] * np.sin(theta)
    out[..., 1::2] = x[..., 1::2] * np.cos(theta) + x[..., 0::2] * np.sin(theta)
    return out


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    B, _, E = x_t.shape
    d = E // num_heads
    heads = lambda a: a.reshape(B, 1, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = rope(heads(x_t @ W_q), position, base), rope(heads(x_t @ W_k), position, base), heads(x_t @ W_v)
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return (w @ v).transpose(0, 2, 1, 3).reshape(B, 1, E) @ W_o, (k, v)
