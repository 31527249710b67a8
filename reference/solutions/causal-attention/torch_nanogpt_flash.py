# mhajudge: causal-attention
# expect-verdict: forbidden
# nanoGPT's other branch: "efficient attention using Flash Attention CUDA kernels"
# (karpathy/nanoGPT, model.py: https://github.com/karpathy/nanoGPT/blob/master/model.py).
# On the torch track scaled_dot_product_attention is what the problem asks you to
# write, so it is refused.
import torch


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, T, C = x.size()
    q, k, v = [(x @ W).view(B, T, num_heads, C // num_heads).transpose(1, 2) for W in (W_q, W_k, W_v)]
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0, is_causal=True)
    return y.transpose(1, 2).contiguous().view(B, T, C) @ W_o, None
