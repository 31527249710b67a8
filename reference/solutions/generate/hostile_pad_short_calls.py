# mhajudge: generate
# expect-verdict: wrong-answer
# Hostile (from a review): no KV cache, but every call is padded with sleep to last 4 ms per new
# token, more than the recomputation itself takes at any length timed: the time then grows like T^1,
# like a cached loop's, and the fitted exponent passes. The longest call cannot be made faster than
# its work: at T=384 it takes some 40x the reference's time, and the timed case fails on that alone.
import time

import numpy as np


def ln(x, g, b, eps=1e-5):
    m = x.mean(-1, keepdims=True)
    v = x.var(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g + b


def forward(tokens, p, H):
    L = len(tokens)
    x = p["embed"][tokens] + p["pos"][:L]
    h = ln(x, p["ln1_gamma"], p["ln1_beta"])
    E = x.shape[1]
    d = E // H
    q = (h @ p["W_q"]).reshape(L, H, d).transpose(1, 0, 2)
    k = (h @ p["W_k"]).reshape(L, H, d).transpose(1, 0, 2)
    v = (h @ p["W_v"]).reshape(L, H, d).transpose(1, 0, 2)
    s = q @ k.transpose(0, 2, 1) / np.sqrt(d)
    s = np.where(np.tril(np.ones((L, L), dtype=bool)), s, -np.inf)
    w = np.exp(s - s.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    x = x + (w @ v).transpose(1, 0, 2).reshape(L, E) @ p["W_o"]
    return ln(x[-1], p["lnf_gamma"], p["lnf_beta"]) @ p["lm_head"]


def generate(prompt, params, num_heads, max_new_tokens):
    t0 = time.perf_counter()
    seq = list(map(int, prompt))
    for _ in range(max_new_tokens):
        seq.append(int(np.argmax(forward(seq, params, num_heads))))
    left = 0.004 * max_new_tokens - (time.perf_counter() - t0)
    if left > 0:
        time.sleep(left)
    return np.array(seq[len(prompt):], dtype=np.int64)
