# mhajudge: kv-cache
# expect-verdict: wrong-answer
# Ignores the cache it is given: it keeps every token it has seen in a global
# and recomputes causal attention over them. Fine when it built the cache
# itself, wrong when the judge hands in a cache of its own.
import numpy as np

_seen = []


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    _seen.append(x_t)
    x = np.concatenate(_seen, axis=1)                                   # (B, t+1, E)
    B, T, E = x.shape
    d = E // num_heads
    split = lambda a: a.reshape(B, a.shape[1], num_heads, d).transpose(0, 2, 1, 3)
    q, k, v = split(x[:, -1:] @ W_q), split(x @ W_k), split(x @ W_v)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    out = (w @ v).transpose(0, 2, 1, 3).reshape(B, 1, E)
    return out @ W_o, (k, v)
