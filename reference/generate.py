"""Greedy generation with a one-layer decoder: prefill the prompt once, then decode with a KV cache."""

import numpy as np


def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)                      # biased
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def split_heads(a, num_heads):
    L, E = a.shape
    return a.reshape(L, num_heads, E // num_heads).transpose(1, 0, 2)   # (H, L, d_k)


def block(x, K_cache, V_cache, p, num_heads):
    """New positions x (L, E) attend to the cache plus themselves, causally."""
    h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])                      # (L, E)
    q = split_heads(h @ p["W_q"], num_heads)                             # (H, L, d_k)
    K = np.concatenate([K_cache, split_heads(h @ p["W_k"], num_heads)], axis=1)  # (H, t + L, d_k)
    V = np.concatenate([V_cache, split_heads(h @ p["W_v"], num_heads)], axis=1)
    L, t = x.shape[0], K_cache.shape[1]
    scores = q @ K.transpose(0, 2, 1) / np.sqrt(q.shape[-1])              # (H, L, t + L)
    allowed = np.arange(t + L)[None, :] <= t + np.arange(L)[:, None]      # (L, t + L) causal
    weights = softmax(np.where(allowed, scores, -np.inf))
    attn = (weights @ V).transpose(1, 0, 2).reshape(L, -1)               # (L, E)
    return x + attn @ p["W_o"], K, V


def generate(prompt, params, num_heads, max_new_tokens):
    p = params
    E = p["embed"].shape[1]
    K = V = np.zeros((num_heads, 0, E // num_heads))                     # the empty cache
    tokens = [int(t) for t in prompt]
    x = p["embed"][tokens] + p["pos"][:len(tokens)]                       # prefill: (P, E)
    new = []
    while len(new) < max_new_tokens:
        x, K, V = block(x, K, V, p, num_heads)
        logits = layer_norm(x[-1], p["lnf_gamma"], p["lnf_beta"]) @ p["lm_head"]   # (V,)
        token = int(np.argmax(logits))                                   # ties: the lowest id
        new.append(token)
        position = len(tokens) + len(new) - 1                            # the new token's absolute position
        x = p["embed"][[token]] + p["pos"][[position]]                   # (1, E)
    return np.array(new, dtype=np.int64)
