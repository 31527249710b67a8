# mhajudge: softmax
# expect-verdict: accepted
# softmax from scratch in PyTorch: the maximum subtracted along the axis first.
import torch


def softmax(x, axis=-1):
    e = torch.exp(x - x.amax(dim=axis, keepdim=True))   # no overflow; -inf entries give 0
    return e / e.sum(dim=axis, keepdim=True)
