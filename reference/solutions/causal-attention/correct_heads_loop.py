# mhajudge: causal-attention
# expect-verdict: accepted
# A correct interview-style solution: a loop over heads slicing feature columns,
# a boolean "future" mask filled with -inf, and the heads concatenated in order.
import numpy as np


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    d_k = E // num_heads
    Q, K, V = x @ W_q, x @ W_k, x @ W_v
    future = np.triu(np.ones((L, L), dtype=bool), k=1)
    outs, ws = [], []
    for h in range(num_heads):
        q = Q[:, :, h * d_k:(h + 1) * d_k]
        k = K[:, :, h * d_k:(h + 1) * d_k]
        v = V[:, :, h * d_k:(h + 1) * d_k]
        s = q @ k.transpose(0, 2, 1) / np.sqrt(d_k)
        s[:, future] = -np.inf
        w = softmax(s)
        ws.append(w)
        outs.append(w @ v)
    return np.concatenate(outs, axis=-1) @ W_o, np.stack(ws, axis=1)
