"""Sliding-window causal multi-head self-attention (Mistral-style local attention).

    Q, K, V = x W_q, x W_k, x W_v            heads: contiguous chunks of d_k = E // H features
    weights = softmax(Q K^T / sqrt(d_k))     per head; query i sees keys i - window < j <= i
    output  = concat_heads(weights V) W_o
"""

import math

import numpy as np

# Self-contained on purpose: the judge also runs this file as a candidate, in a
# sandbox where only NumPy and the standard library are importable.


def masked_softmax(scores, keep):
    """Softmax over the last axis; keys where ``keep`` is False get weight exactly 0."""
    scores = np.where(keep, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))    # each row keeps its diagonal
    return e / e.sum(axis=-1, keepdims=True)


def split_heads(t, num_heads):
    B, L, D = t.shape
    return t.reshape(B, L, num_heads, D // num_heads).transpose(0, 2, 1, 3)   # (B, H, L, d_k)


def merge_heads(t):
    B, H, L, d_k = t.shape
    return t.transpose(0, 2, 1, 3).reshape(B, L, H * d_k)                      # (B, L, H*d_k)


def sliding_window_attention(x, W_q, W_k, W_v, W_o, num_heads, window):
    if window < 1:
        raise ValueError(f"window must be at least 1 (the query itself), got {window}")
    B, L, E = x.shape
    d_k = E // num_heads
    q = split_heads(x @ W_q, num_heads)                     # (B, H, L, d_k)
    k = split_heads(x @ W_k, num_heads)                     # (B, H, L, d_k)
    v = split_heads(x @ W_v, num_heads)                     # (B, H, L, d_k)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k)   # (B, H, L, L)
    i = np.arange(L)[:, None]                               # (L, 1) queries
    j = np.arange(L)[None, :]                               # (1, L) keys
    keep = (j <= i) & (j > i - window)                      # (L, L): the last `window` keys, itself included
    weights = masked_softmax(scores, keep)                  # (B, H, L, L)
    output = merge_heads(weights @ v) @ W_o                 # (B, L, E)
    return output, weights
