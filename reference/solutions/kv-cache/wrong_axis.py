# mhajudge: kv-cache
# expect-verdict: wrong-answer
# expect-diagnosis: softmax-wrong-axis
# The softmax runs over axis -2, which has a single query at a decoding step.
import numpy as np


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x_t.shape
    d = E // num_heads
    split = lambda a: a.reshape(B, L, num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = split(x_t @ W_q), split(x_t @ W_k), split(x_t @ W_v)
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    w = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(d), axis=-2)
    return (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E) @ W_o, (k, v)
