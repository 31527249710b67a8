# mhajudge: attention-block
# expect-verdict: accepted
# A correct block with a Python loop over batch and heads and one helper for dropout.
import math

import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    x = np.asarray(x, dtype=float)
    centred = x - x.mean(axis=-1, keepdims=True)
    std = np.sqrt((centred ** 2).sum(axis=-1, keepdims=True) / x.shape[-1] + eps)
    return centred / std * gamma + beta


def _dropout(a, p, rng, active):
    if not active or p == 0:
        return a
    keep = rng.random(a.shape) < 1 - p
    return a * keep * (1.0 / (1 - p))


def attention_block(x, params, num_heads, dropout_p=0.0, training=False, rng=None):
    B, L, E = x.shape
    d_k = E // num_heads
    h = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    out = np.zeros_like(h)
    for b in range(B):
        q_all, k_all, v_all = h[b] @ params["W_q"], h[b] @ params["W_k"], h[b] @ params["W_v"]
        heads = []
        for head in range(num_heads):
            cols = slice(head * d_k, (head + 1) * d_k)
            scores = q_all[:, cols] @ k_all[:, cols].T / math.sqrt(d_k)
            w = np.exp(scores - scores.max(axis=1, keepdims=True))
            w /= w.sum(axis=1, keepdims=True)
            w = _dropout(w, dropout_p, rng, training)
            heads.append(w @ v_all[:, cols])
        out[b] = np.concatenate(heads, axis=1) @ params["W_o"]
    return x + _dropout(out, dropout_p, rng, training)
