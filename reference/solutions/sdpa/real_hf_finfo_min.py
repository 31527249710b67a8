# mhajudge: sdpa
# expect-verdict: accepted
# source: https://github.com/huggingface/transformers/blob/main/src/transformers/modeling_attn_mask_utils.py
# Hugging Face's additive mask in NumPy: (1 - mask) filled with finfo(dtype).min and
# added to the scores. The minimum swallows the score it is added to, so a fully masked
# row comes out uniform, the -1e9 convention: accepted, and no diagnosis.
import numpy as np


def scaled_dot_product_attention(Q, K, V, mask=None):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    if mask is not None:
        inverted = 1.0 - np.asarray(mask, dtype=scores.dtype)
        scores = scores + np.where(inverted.astype(bool), np.finfo(scores.dtype).min, 0.0)
    scores = scores - scores.max(-1, keepdims=True)
    w = np.exp(scores)
    w = w / w.sum(-1, keepdims=True)
    return w @ V, w
