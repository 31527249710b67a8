"""Heads of one decoding step's token, split and merged right or interleaved.

Shared by the KV-cache mistakes (kv-cache, rope-kv-cache): ``(B, 1, E)`` to
``(B, H, 1, d_k)`` and back, either contiguously (head h gets features
h*d_k .. (h+1)*d_k - 1) or interleaved, as ``reshape(B, 1, d_k, H)`` gives
(head h gets features h, h + H, h + 2H, ...).
"""


def step_heads(B: int, E: int, num_heads: int, heads: str = "contiguous"):
    """``(split, merge)`` for one token's heads."""
    d_k = E // num_heads
    if heads == "contiguous":
        def split(a):
            return a.reshape(B, 1, num_heads, d_k).transpose(0, 2, 1, 3)   # (B, H, 1, d_k)

        def merge(h):
            return h.transpose(0, 2, 1, 3).reshape(B, 1, E)                 # (B, 1, E)
    else:
        def split(a):
            return a.reshape(B, 1, d_k, num_heads).transpose(0, 3, 1, 2)

        def merge(h):
            return h.transpose(0, 2, 3, 1).reshape(B, 1, E)
    return split, merge
