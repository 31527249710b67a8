# mhajudge: causal-attention
# expect-verdict: wrong-answer
# expect-diagnosis: causal-strict
# Keeps only keys j < i (tril with k=-1) and fills with -inf: the first row has no
# key left and becomes NaN.
import numpy as np


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    def heads(t):
        return t.reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)
    q, k, v = heads(x @ W_q), heads(x @ W_k), heads(x @ W_v)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d_k)
    allowed = np.tril(np.ones((L, L), dtype=bool), k=-1)
    with np.errstate(invalid="ignore"):
        w = softmax(np.where(allowed, scores, -np.inf))
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    return out @ W_o, w
