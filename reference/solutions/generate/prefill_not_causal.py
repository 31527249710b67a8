# mhajudge: generate
# expect-verdict: wrong-answer
# expect-diagnosis: prefill-not-causal
# The prefill mask is built upside down (np.triu where np.tril belongs): prompt positions see the future.
import numpy as np


def ln(x, g, b):
    m = x.mean(-1, keepdims=True)
    return (x - m) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b


def attend(x, cache, p, H):
    h = ln(x, p["ln1_gamma"], p["ln1_beta"])
    L, E = x.shape
    d = E // H
    q, k, v = ((h @ p[w]).reshape(L, H, d).transpose(1, 0, 2) for w in ("W_q", "W_k", "W_v"))
    if cache is not None:
        k, v = np.concatenate([cache[0], k], 1), np.concatenate([cache[1], v], 1)
    T = k.shape[1]
    s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
    allowed = np.triu(np.ones((L, L), bool)) if cache is None else np.ones((L, T), bool)
    s = np.where(allowed, s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return x + (w @ v).transpose(1, 0, 2).reshape(L, E) @ p["W_o"], (k, v)


def generate(prompt, params, num_heads, max_new_tokens):
    p = params
    x = p["embed"][prompt] + p["pos"][:len(prompt)]
    x, cache = attend(x, None, p, num_heads)
    out = []
    for step in range(max_new_tokens):
        tok = int(np.argmax(ln(x[-1], p["lnf_gamma"], p["lnf_beta"]) @ p["lm_head"]))
        out.append(tok)
        x, cache = attend(p["embed"][[tok]] + p["pos"][[len(prompt) + step]], cache, p, num_heads)
    return np.array(out, dtype=int)
