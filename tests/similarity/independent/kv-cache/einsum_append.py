# mhajudge: kv-cache
import numpy as np


def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, _, E = x_t.shape
    dk = E // num_heads
    q = np.einsum("bte,ef->btf", x_t, W_q).reshape(B, num_heads, dk)
    k_new = np.einsum("bte,ef->btf", x_t, W_k).reshape(B, num_heads, 1, dk)
    v_new = np.einsum("bte,ef->btf", x_t, W_v).reshape(B, num_heads, 1, dk)
    if cache is None:
        K_all, V_all = k_new, v_new
    else:
        K_all = np.append(cache[0], k_new, axis=2)
        V_all = np.append(cache[1], v_new, axis=2)
    logits = np.einsum("bhd,bhtd->bht", q, K_all) / np.sqrt(dk)
    logits -= logits.max(axis=-1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=-1, keepdims=True)
    ctx = np.einsum("bht,bhtd->bhd", probs, V_all).reshape(B, 1, E)
    return ctx @ W_o, (K_all, V_all)
