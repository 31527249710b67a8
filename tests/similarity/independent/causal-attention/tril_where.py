# mhajudge: causal-attention
import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    batch, seq, emb = x.shape
    hd = emb // num_heads

    def heads(w):
        return np.transpose((x @ w).reshape(batch, seq, num_heads, hd), (0, 2, 1, 3))

    q, k, v = heads(W_q), heads(W_k), heads(W_v)
    allowed = np.tril(np.ones((seq, seq), dtype=bool))
    logits = np.where(allowed, q @ np.swapaxes(k, -1, -2) / np.sqrt(hd), -np.inf)
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs = probs / probs.sum(axis=-1, keepdims=True)
    y = np.transpose(probs @ v, (0, 2, 1, 3)).reshape(batch, seq, emb)
    return y @ W_o, probs
