# mhajudge: mha-masked
# expect-verdict: accepted
# The 0/1 mask of this problem arrives as torch.bool on the torch track (PROBLEMS.md,
# "masks as torch.bool"), so `~mask` is the blocked positions; the assert says so.
import math
import torch


def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    assert mask is None or mask.dtype == torch.bool, mask.dtype
    L, d = Q.shape
    q, k, v = [(X @ W).view(L, h, d // h).transpose(0, 1) for X, W in ((Q, Wq), (K, Wk), (V, Wv))]
    s = q @ k.transpose(-2, -1) / math.sqrt(d // h)
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    m = s.amax(-1, keepdim=True)
    e = torch.exp(s - torch.where(torch.isfinite(m), m, 0.0))
    t = e.sum(-1, keepdim=True)
    w = torch.where(t > 0, e / t.clamp_min(1e-300), 0.0)
    return (w @ v).transpose(0, 1).reshape(L, d) @ Wo
