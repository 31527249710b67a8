# mhajudge: mha-batched
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
# source: https://github.com/649453932/Chinese-Text-Classification-Pytorch/issues/53
# The Multi_Head_Attention of that repository (and FuxiCTR's, reczoo/FuxiCTR#30) in NumPy:
# Q.view(batch_size * num_head, -1, dim_head), a reshape straight to the heads with no
# transpose, and context.view(batch_size, -1, dim_head * num_head) back.
import numpy as np


def scaled_dot_product_attention(Q, K, V, scale):
    attention = Q @ np.swapaxes(K, 1, 2) * scale
    attention = np.exp(attention - attention.max(-1, keepdims=True))
    attention = attention / attention.sum(-1, keepdims=True)
    return attention @ V


def multi_head_attention(Q, K, V, n_heads):
    batch_size, _, dim_model = Q.shape
    dim_head = dim_model // n_heads
    Q = Q.reshape(batch_size * n_heads, -1, dim_head)
    K = K.reshape(batch_size * n_heads, -1, dim_head)
    V = V.reshape(batch_size * n_heads, -1, dim_head)
    scale = K.shape[-1] ** -0.5
    context = scaled_dot_product_attention(Q, K, V, scale)
    return context.reshape(batch_size, -1, dim_head * n_heads)
