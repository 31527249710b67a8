# mhajudge: sdpa
import numpy as np


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    ez = np.exp(z)
    return ez / ez.sum(axis=-1, keepdims=True)


def scaled_dot_product_attention(Q, K, V, mask=None):
    """Textbook attention: softmax(Q K^T / sqrt(d)) V, masked keys filled with -1e9."""
    d_k = Q.shape[-1]
    scores = np.matmul(Q, np.swapaxes(K, -2, -1)) / np.sqrt(d_k)
    if mask is not None:
        scores = np.where(np.asarray(mask).astype(bool), scores, -1e9)
    attn = softmax(scores)
    return np.matmul(attn, V), attn
