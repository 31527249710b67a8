# mhajudge: causal-attention
# expect-verdict: accepted
# nanoGPT's CausalSelfAttention.forward, the "manual implementation of attention"
# branch (karpathy/nanoGPT, model.py: https://github.com/karpathy/nanoGPT/blob/master/model.py),
# with c_attn / c_proj given as the problem's weights (no biases, no dropout) and the
# attention weights returned too.
import math

import torch
import torch.nn.functional as F


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)
    n_head, n_embd = num_heads, C
    bias = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
    c_attn = torch.cat([W_q, W_k, W_v], dim=1)  # (C, 3C): one matmul for q, k and v

    # calculate query, key, values for all heads in batch and move head forward to be the batch dim
    q, k, v = (x @ c_attn).split(n_embd, dim=2)
    k = k.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)
    q = q.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)
    v = v.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)

    # manual implementation of attention
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
    att = att.masked_fill(bias[:, :, :T, :T] == 0, float('-inf'))
    att = F.softmax(att, dim=-1)
    y = att @ v  # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
    y = y.transpose(1, 2).contiguous().view(B, T, C)  # re-assemble all head outputs side by side

    # output projection
    y = y @ W_o
    return y, att
