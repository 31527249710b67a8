# mhajudge: gqa
import numpy as np


def _softmax_last(z):
    z = z - z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    return z / z.sum(axis=-1, keepdims=True)


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_kv_heads < 1 or num_heads % num_kv_heads:
        raise ValueError("num_heads must be a multiple of num_kv_heads")
    B, L, E = x.shape
    hd = E // num_heads
    per = num_heads // num_kv_heads
    q = np.matmul(x, W_q).reshape(B, L, num_heads, hd).transpose(0, 2, 1, 3)
    q = q.reshape(B, num_kv_heads, per, L, hd)
    k = np.matmul(x, W_k).reshape(B, L, num_kv_heads, hd).transpose(0, 2, 1, 3)[:, :, None]
    v = np.matmul(x, W_v).reshape(B, L, num_kv_heads, hd).transpose(0, 2, 1, 3)[:, :, None]
    att = np.matmul(q, np.swapaxes(k, -1, -2)) / np.sqrt(hd)
    if mask is not None:
        full = np.broadcast_to(np.asarray(mask), (B, num_heads, L, L)).reshape(att.shape)
        att = np.where(full.astype(bool), att, -1e9)
    y = np.matmul(_softmax_last(att), v)
    return np.matmul(y.reshape(B, num_heads, L, hd).transpose(0, 2, 1, 3).reshape(B, L, E), W_o)
