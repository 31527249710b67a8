# mhajudge: kv-cache
# expect-verdict: accepted
# A correct step: split heads, append to the cache, attend over all of it.
import numpy as np


def split_heads(a, h):
    b, l, e = a.shape
    return a.reshape(b, l, h, e // h).transpose(0, 2, 1, 3)


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    q = split_heads(x_t @ W_q, num_heads)
    k = split_heads(x_t @ W_k, num_heads)
    v = split_heads(x_t @ W_v, num_heads)
    if cache is not None:
        k = np.concatenate((cache[0], k), axis=2)
        v = np.concatenate((cache[1], v), axis=2)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(q.shape[-1])
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    o = (w @ v).transpose(0, 2, 1, 3).reshape(x_t.shape)
    return o @ W_o, (k, v)
