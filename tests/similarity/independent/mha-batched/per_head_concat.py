# mhajudge: mha-batched
import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    width = Q.shape[-1] // n_heads
    pieces = []
    for head in range(n_heads):
        part = slice(head * width, head * width + width)
        qh, kh, vh = Q[..., part], K[..., part], V[..., part]
        logits = np.einsum("bqd,bkd->bqk", qh, kh) / np.sqrt(width)
        logits = logits - logits.max(-1)[..., None]
        w = np.exp(logits)
        w = w / w.sum(-1)[..., None]
        pieces.append(np.einsum("bqk,bkd->bqd", w, vh))
    return np.concatenate(pieces, axis=-1)
