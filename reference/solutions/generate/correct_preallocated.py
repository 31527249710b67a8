# mhajudge: generate
# expect-verdict: accepted
# Correct, written another way: a preallocated cache (H, P + T, d_k) filled in place, one query per step,
# per-head Python loops in the prefill.
import numpy as np


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps) * g + b


def generate(prompt, params, num_heads, max_new_tokens):
    p = params
    P = len(prompt)
    E = p["W_q"].shape[0]
    H, d = num_heads, E // num_heads
    total = P + max_new_tokens
    Kc = np.zeros((H, total, d))
    Vc = np.zeros((H, total, d))
    out = []
    # prefill
    x = p["embed"][np.asarray(prompt)] + p["pos"][:P]
    h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
    q, k, v = h @ p["W_q"], h @ p["W_k"], h @ p["W_v"]
    heads = []
    for i in range(H):
        sl = slice(i * d, (i + 1) * d)
        Kc[i, :P], Vc[i, :P] = k[:, sl], v[:, sl]
        s = q[:, sl] @ k[:, sl].T / np.sqrt(d)
        s[np.triu_indices(P, 1)] = -np.inf
        w = np.exp(s - s.max(1, keepdims=True))
        heads.append((w / w.sum(1, keepdims=True)) @ v[:, sl])
    last = (x + np.concatenate(heads, 1) @ p["W_o"])[-1]
    t = P
    while len(out) < max_new_tokens:
        tok = int(np.argmax(layer_norm(last, p["lnf_gamma"], p["lnf_beta"]) @ p["lm_head"]))
        out.append(tok)
        if len(out) == max_new_tokens:
            break
        xt = p["embed"][tok] + p["pos"][t]
        ht = layer_norm(xt, p["ln1_gamma"], p["ln1_beta"])
        qt = (ht @ p["W_q"]).reshape(H, d)
        Kc[:, t] = (ht @ p["W_k"]).reshape(H, d)
        Vc[:, t] = (ht @ p["W_v"]).reshape(H, d)
        t += 1
        s = np.einsum("hd,htd->ht", qt, Kc[:, :t]) / np.sqrt(d)
        w = np.exp(s - s.max(1, keepdims=True))
        w /= w.sum(1, keepdims=True)
        last = xt + np.einsum("ht,htd->hd", w, Vc[:, :t]).reshape(E) @ p["W_o"]
    return out
