# mhajudge: flash-attention
# expect-verdict: memory-limit
# Right numbers, but the whole L x L score matrix at once: torch's allocations are not
# seen by tracemalloc, and the judge's measure from outside (resident memory, the
# control group) catches them all the same.
import math

import torch


def flash_attention(Q, K, V, block_size=64, causal=False):
    L = Q.shape[-2]
    s = Q @ K.transpose(-2, -1) / math.sqrt(Q.shape[-1])           # (B, H, L, L): the memory wall
    if causal:
        s = s.masked_fill(~torch.ones(L, L, dtype=torch.bool).tril(), float("-inf"))
    w = torch.exp(s - s.amax(-1, keepdim=True))
    return (w / w.sum(-1, keepdim=True)) @ V
