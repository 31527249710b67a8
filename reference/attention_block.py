"""A pre-norm attention block with layer norm and (inverted) dropout.

    h      = layer_norm(x)                         over the features, biased variance
    attn   = dropout(softmax(q k^T / sqrt(d_k)))   per head, q, k, v = h W_q, h W_k, h W_v
    result = dropout(concat_h(attn_h v_h) W_o)
    output = x + result                            the residual connection

Dropout acts only when ``training`` is true: it zeroes each entry with
probability ``dropout_p`` and scales the kept ones by ``1 / (1 - dropout_p)``, so
the expected output in training equals the output in evaluation.
"""

import math

import numpy as np


def softmax(scores):
    """Softmax over the last axis, the row maximum subtracted first."""
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layer_norm(x, gamma, beta, eps=1e-5):
    # x (..., E), gamma and beta (E,)
    mean = x.mean(axis=-1, keepdims=True)                           # (..., 1)
    var = x.var(axis=-1, keepdims=True)                             # (..., 1), divides by E (ddof=0)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta           # (..., E)


def dropout(a, p, rng):
    """Zero each entry with probability p; scale the survivors by 1/(1-p)."""
    keep = rng.random(a.shape) >= p                                 # True with probability 1 - p
    return np.where(keep, a / (1.0 - p), 0.0)


def attention_block(x, params, num_heads, dropout_p=0.0, training=False, rng=None):
    # x (B, L, E); params: W_q, W_k, W_v, W_o (E, E), ln_gamma, ln_beta (E,)
    B, L, E = x.shape
    if E % num_heads != 0:
        raise ValueError(f"the model width E={E} is not divisible by num_heads={num_heads}")
    d_k = E // num_heads
    drop = training and dropout_p > 0

    h = layer_norm(x, params["ln_gamma"], params["ln_beta"])                 # (B, L, E)
    q = (h @ params["W_q"]).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)   # (B, H, L, d_k)
    k = (h @ params["W_k"]).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)   # (B, H, L, d_k)
    v = (h @ params["W_v"]).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3)   # (B, H, L, d_k)
    weights = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k))          # (B, H, L, L)
    if drop:
        weights = dropout(weights, dropout_p, rng)                           # dropout on the attention weights
    heads = weights @ v                                                      # (B, H, L, d_k)
    concat = heads.transpose(0, 2, 1, 3).reshape(B, L, E)                    # (B, L, E)
    result = concat @ params["W_o"]                                          # (B, L, E)
    if drop:
        result = dropout(result, dropout_p, rng)                             # dropout on the block's output
    return x + result                                                        # (B, L, E)
