# mhajudge: mha-projected
import numpy as np


def project(x, W, heads):
    batch, length, width = x.shape
    return (x @ W).reshape(batch, length, heads, width // heads).transpose(0, 2, 1, 3)


def masked_softmax(logits, keep):
    logits = np.where(keep, logits, -np.inf)
    top = logits.max(axis=-1, keepdims=True)
    top[np.isneginf(top)] = 0.0
    e = np.exp(logits - top)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None):
    width = query.shape[-1]
    if width % num_heads != 0:
        raise ValueError("embedding size is not a multiple of the number of heads")
    q, k, v = project(query, W_q, num_heads), project(key, W_k, num_heads), project(value, W_v, num_heads)
    logits = q @ k.transpose(0, 1, 3, 2) / np.sqrt(width // num_heads)
    keep = np.ones(logits.shape, dtype=bool) if mask is None else np.broadcast_to(np.asarray(mask).astype(bool), logits.shape)
    probs = masked_softmax(logits, keep)
    merged = (probs @ v).transpose(0, 2, 1, 3).reshape(query.shape[0], query.shape[1], width)
    return merged @ W_o, probs
