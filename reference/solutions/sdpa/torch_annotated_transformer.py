# mhajudge: sdpa
# expect-verdict: accepted
# The Annotated Transformer's `attention()` (Harvard NLP), as published, with the
# dropout argument dropped: https://nlp.seas.harvard.edu/annotated-transformer/
# (github.com/harvardnlp/annotated-transformer, the_annotated_transformer.py).
# Its -1e9 fill gives a fully masked row uniform weights: an accepted convention.
import math

import torch


def attention(query, key, value, mask=None, dropout=None):
    "Compute 'Scaled Dot Product Attention'"
    d_k = query.size(-1)
    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    p_attn = scores.softmax(dim=-1)
    if dropout is not None:
        p_attn = dropout(p_attn)
    return torch.matmul(p_attn, value), p_attn


def scaled_dot_product_attention(Q, K, V, mask=None):
    return attention(Q, K, V, mask)
