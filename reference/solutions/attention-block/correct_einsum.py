# mhajudge: attention-block
# expect-verdict: accepted
# A correct block with einsum, binomial masks, and the output mask drawn before the attention mask.
import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def attention_block(x, params, num_heads, dropout_p=0.0, training=False, rng=None):
    B, L, E = x.shape
    H, d = num_heads, x.shape[-1] // num_heads
    use_dropout = bool(training) and dropout_p > 0.0
    if use_dropout:
        out_mask = rng.binomial(1, 1.0 - dropout_p, size=(B, L, E)) / (1.0 - dropout_p)
        attn_mask = rng.binomial(1, 1.0 - dropout_p, size=(B, H, L, L)) / (1.0 - dropout_p)
    h = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    q = np.einsum("ble,ef->blf", h, params["W_q"]).reshape(B, L, H, d)
    k = np.einsum("ble,ef->blf", h, params["W_k"]).reshape(B, L, H, d)
    v = np.einsum("ble,ef->blf", h, params["W_v"]).reshape(B, L, H, d)
    s = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(d)
    a = np.exp(s - s.max(-1, keepdims=True))
    a = a / a.sum(-1, keepdims=True)
    if use_dropout:
        a = a * attn_mask
    o = np.einsum("bhqk,bkhd->bqhd", a, v).reshape(B, L, E) @ params["W_o"]
    if use_dropout:
        o = o * out_mask
    return x + o
