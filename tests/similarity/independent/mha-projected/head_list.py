# mhajudge: mha-projected
import numpy as np


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None):
    n, tq, e = query.shape
    tk = key.shape[1]
    if num_heads <= 0 or e % num_heads:
        raise ValueError("E must be divisible by num_heads")
    hd = e // num_heads
    projected = [np.matmul(t, w) for t, w in zip((query, key, value), (W_q, W_k, W_v))]
    m = None if mask is None else np.broadcast_to(mask, (n, num_heads, tq, tk)).astype(bool)
    head_out, head_w = [], []
    for j in range(num_heads):
        cols = np.arange(j * hd, (j + 1) * hd)
        qj, kj, vj = (p[:, :, cols] for p in projected)
        a = np.matmul(qj, np.transpose(kj, (0, 2, 1))) / np.sqrt(hd)
        if m is not None:
            a = np.where(m[:, j], a, -1e9)
        a = np.exp(a - np.max(a, axis=2, keepdims=True))
        a = a / np.sum(a, axis=2, keepdims=True)
        head_w.append(a)
        head_out.append(np.matmul(a, vj))
    return np.matmul(np.concatenate(head_out, axis=2), W_o), np.stack(head_w, axis=1)
