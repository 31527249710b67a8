# mhajudge: generate
# expect-verdict: wrong-answer
# Hostile: no cache (the whole sequence goes through the layer at every step), but every answer is
# memoised: by prompt, model and length, and a longer generation's tokens answer any shorter one from
# the same prompt. Repeated calls were the timing once, so this looked as fast as a cached loop. Every
# timed call now has a prompt of its own, handed over by the child one at a time
# (mhajudge/sandbox/serving.py): the memo never hits, and the timed case fails on its growth.
import numpy as np

MEMO = {}


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
    key = (np.asarray(prompt).tobytes(), id(params), num_heads)
    known = MEMO.get(key, [])
    if len(known) >= max_new_tokens:
        return np.array(known[:max_new_tokens], dtype=np.int64)
    seq = list(map(int, prompt)) + known
    while len(seq) - len(prompt) < max_new_tokens:
        seq.append(int(np.argmax(forward(seq, params, num_heads))))
    MEMO[key] = seq[len(prompt):]
    return np.array(seq[len(prompt):], dtype=np.int64)
