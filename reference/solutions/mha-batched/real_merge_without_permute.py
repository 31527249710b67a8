# mhajudge: mha-batched
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
# source: https://github.com/jsbaan/transformer-from-scratch/pull/6
# The multi-head attention of jsbaan/transformer-from-scratch before that fix (and of
# ajhalthor/Transformer-Neural-Network, issue #8) in NumPy: the heads are split right,
# but merged with values.reshape(batch, seq_len, d_model) and no permute(0, 2, 1, 3),
# which scrambles chunks of different positions into one token's output.
import math

import numpy as np


def multi_head_attention(Q, K, V, n_heads):
    batch_size, seq_len, hidden_dim = Q.shape
    qkv_dim = hidden_dim // n_heads
    q = Q.reshape(batch_size, seq_len, n_heads, qkv_dim).transpose(0, 2, 1, 3)
    k = K.reshape(batch_size, seq_len, n_heads, qkv_dim).transpose(0, 2, 1, 3)
    v = V.reshape(batch_size, seq_len, n_heads, qkv_dim).transpose(0, 2, 1, 3)
    attn_logits = q @ k.transpose(0, 1, 3, 2) / math.sqrt(qkv_dim)
    attn = np.exp(attn_logits - attn_logits.max(-1, keepdims=True))
    attn = attn / attn.sum(-1, keepdims=True)
    values = attn @ v                                           # (batch, heads, seq_len, qkv_dim)
    return values.reshape(batch_size, seq_len, hidden_dim)      # the permute is missing
