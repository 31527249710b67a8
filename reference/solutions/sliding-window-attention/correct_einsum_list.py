# mhajudge: sliding-window-attention
# expect-verdict: accepted
# einsum, a mask from broadcasting aranges, a guarded -inf fill, and lists returned.
import numpy as np


def sliding_window_attention(x, W_q, W_k, W_v, W_o, num_heads, window):
    if not window >= 1:
        raise ValueError("window")
    B, L, E = x.shape
    H, d = num_heads, E // num_heads
    q = np.einsum("ble,ef->blf", x, W_q).reshape(B, L, H, d)
    k = np.einsum("ble,ef->blf", x, W_k).reshape(B, L, H, d)
    v = np.einsum("ble,ef->blf", x, W_v).reshape(B, L, H, d)
    dist = np.arange(L)[:, None] - np.arange(L)[None, :]            # i - j
    allowed = (dist >= 0) & (dist < window)
    s = np.einsum("bihd,bjhd->bhij", q, k) / np.sqrt(d)
    s = np.where(allowed, s, -np.inf)
    w = np.exp(s - s.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    out = np.einsum("bhij,bjhd->bihd", w, v).reshape(B, L, E) @ W_o
    return out.tolist(), w.tolist()
