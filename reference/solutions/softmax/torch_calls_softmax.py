# mhajudge: softmax
# expect-verdict: forbidden
# The one-liner an interviewer asked you not to write; reached through a built name, too.
import torch


def softmax(x, axis=-1):
    return getattr(torch, "soft" + "max")(x, dim=axis)
