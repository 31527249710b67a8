# mhajudge: generate
# expect-verdict: wrong-answer
# Hostile: no cache, but on its first call it looks through its whole process (the garbage collector's
# objects and the stack above it) for the other calls it will be given, the timed case's steps, and
# generates them all at once, so that each later call is a lookup. The child hands the timed steps over
# one at a time and keeps the others (mhajudge/sandbox/serving.py): there is nothing to find, the
# work of each call is timed with it, and the timed case fails on its growth.
import gc
import sys

import numpy as np

DONE = {}


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


def slow(prompt, params, num_heads, max_new_tokens):
    seq = list(map(int, prompt))
    for _ in range(max_new_tokens):
        seq.append(int(np.argmax(forward(seq, params, num_heads))))
    return np.array(seq[len(prompt):], dtype=np.int64)


def key(prompt, T):
    return np.asarray(prompt).tobytes(), int(T)


def calls_in_sight():
    seen = list(gc.get_objects())
    frame = sys._getframe()
    while frame is not None:
        seen.extend(frame.f_locals.values())
        frame = frame.f_back
    for obj in seen:
        if isinstance(obj, dict) and isinstance(obj.get("args"), list) and len(obj["args"]) == 4:
            prompt, params, H, T = obj["args"]
            if isinstance(params, dict) and "lm_head" in params and isinstance(T, int):
                yield prompt, params, H, T


def generate(prompt, params, num_heads, max_new_tokens):
    if not DONE:
        for p, pa, H, T in calls_in_sight():
            DONE.setdefault(key(p, T), slow(p, pa, H, T))
        DONE["looked"] = True
    found = DONE.get(key(prompt, max_new_tokens))
    return found if found is not None else slow(prompt, params, num_heads, max_new_tokens)
