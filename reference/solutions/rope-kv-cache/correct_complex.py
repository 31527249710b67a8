# mhajudge: rope-kv-cache
# expect-verdict: accepted
# RoPE as a complex multiplication: (x1 + i x2) * exp(i theta) is rotate-half RoPE.
import numpy as np


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    B, _, E = x_t.shape
    H, d = num_heads, E // num_heads
    half = d // 2
    turn = np.exp(1j * position * base ** (-np.arange(half) * 2.0 / d))      # (d/2,)

    def rotate(a):
        z = (a[..., :half] + 1j * a[..., half:]) * turn
        return np.concatenate([z.real, z.imag], axis=-1)

    q = rotate((x_t @ W_q).reshape(B, H, d)[:, :, None])
    k = rotate((x_t @ W_k).reshape(B, H, d)[:, :, None])
    v = (x_t @ W_v).reshape(B, H, d)[:, :, None]
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    s = np.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    out = np.einsum("bhqk,bhkd->bqhd", w, v).reshape(B, 1, E)
    return out @ W_o, (k, v)
