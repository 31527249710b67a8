"""Multi-head attention with input and output projections, batched, with a mask.

    q, k, v = query W_q, key W_k, value W_v, split into H heads of d_k = E / H features
    weights = softmax(q_h k_h^T / sqrt(d_k))     masked keys get 0; a fully masked row is all 0
    output  = concat_h(weights_h v_h) W_o
"""

import math

import numpy as np


def masked_softmax(scores, keep=None):
    """Softmax over the last axis; ``keep`` False means weight exactly 0 (all-zero row if nothing is kept)."""
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)                # (..., Lq, 1)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)      # fully masked rows
    e = np.exp(scores - row_max)                                # masked -> exp(-inf) = 0
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None):
    # query (B, Lq, E), key and value (B, Lk, E), each W (E, E)
    B, Lq, E = query.shape
    Lk = key.shape[1]
    if E % num_heads != 0:
        raise ValueError(f"the model width E={E} is not divisible by num_heads={num_heads}")
    d_k = E // num_heads
    q = (query @ W_q).reshape(B, Lq, num_heads, d_k).transpose(0, 2, 1, 3)   # (B, H, Lq, d_k)
    k = (key @ W_k).reshape(B, Lk, num_heads, d_k).transpose(0, 2, 1, 3)     # (B, H, Lk, d_k)
    v = (value @ W_v).reshape(B, Lk, num_heads, d_k).transpose(0, 2, 1, 3)   # (B, H, Lk, d_k)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k)                    # (B, H, Lq, Lk)
    keep = None if mask is None else np.broadcast_to(np.asarray(mask).astype(bool), scores.shape)
    attn_weights = masked_softmax(scores, keep)                              # (B, H, Lq, Lk)
    heads = attn_weights @ v                                                 # (B, H, Lq, d_k)
    concat = heads.transpose(0, 2, 1, 3).reshape(B, Lq, E)                   # (B, Lq, E)
    return concat @ W_o, attn_weights                                        # (B, Lq, E), (B, H, Lq, Lk)
