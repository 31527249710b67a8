# mhajudge: mha-backward
# expect-verdict: forbidden
# The forward pass in torch and the gradients from autograd: the problem is to write
# the backward pass by hand, so torch.autograd (and Tensor.backward) are refused.
import math

import torch


def mha_forward_backward(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    params = [t.clone().requires_grad_() for t in (x, W_q, W_k, W_v, W_o)]
    x_, Wq, Wk, Wv, Wo = params
    B, L, E = x.shape
    split = lambda a: a.view(B, L, num_heads, E // num_heads).transpose(1, 2)   # noqa: E731
    q, k, v = split(x_ @ Wq), split(x_ @ Wk), split(x_ @ Wv)
    s = q @ k.transpose(-2, -1) / math.sqrt(E // num_heads)
    if mask is not None:
        s = s.masked_fill(mask == 0, -1e9)
    a = torch.exp(s - s.amax(-1, keepdim=True))
    a = a / a.sum(-1, keepdim=True)
    out = (a @ v).transpose(1, 2).reshape(B, L, E) @ Wo
    grads = torch.autograd.grad((out * d_out).sum(), params)
    return out.detach(), dict(zip(["x", "W_q", "W_k", "W_v", "W_o"], grads))
