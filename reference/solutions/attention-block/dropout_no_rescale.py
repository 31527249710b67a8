# mhajudge: attention-block
# expect-verdict: wrong-answer
# expect-diagnosis: dropout-no-rescale
import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * gamma + beta


def attention_block(x, params, num_heads, dropout_p=0.0, training=False, rng=None):
    B, L, E = x.shape
    d = E // num_heads
    drop = training and dropout_p > 0
    h = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    q, k, v = ((h @ params[w]).reshape(B, L, num_heads, d).transpose(0, 2, 1, 3) for w in ("W_q", "W_k", "W_v"))
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    if drop:
        a = a * (rng.random(a.shape) >= dropout_p)
    r = (a @ v).transpose(0, 2, 1, 3).reshape(B, L, E) @ params["W_o"]
    if drop:
        r = r * (rng.random(r.shape) >= dropout_p)
    return x + r
