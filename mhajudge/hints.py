"""What a wrong shape suggests: `got (2, 5, 2, 4)` -> "heads were not merged back"."""

from __future__ import annotations

import math


def shape_hint(got: tuple, want: tuple) -> str:
    """A likely cause of a shape mismatch, in words, or "" when nothing fits."""
    got, want = tuple(got), tuple(want)
    if len(got) == len(want) + 1 and len(want) >= 1:
        if got[0] == 1 and got[1:] == want:
            return "an extra leading axis of size 1 (a missing squeeze, or [None] left in)"
        if got[-1] == 1 and got[:-1] == want:
            return "an extra trailing axis of size 1 (keepdims=True left on, or a column vector)"
        # (..., L, H, d_k) or (..., H, L, d_k) where (..., L, E) was expected
        if got[:-2] == want[:-1] and got[-2] * got[-1] == want[-1]:
            return "the last two axes multiply to the expected last one: reshape (merge the heads) into one axis"
        if (len(want) >= 2 and got[:-3] == want[:-2] and got[-3] * got[-1] == want[-1]
                and got[-2] == want[-2]):
            return ("looks like (heads, L, d_k) per item: heads were not merged back "
                    "(move the head axis next to d_k, then reshape to (..., L, E))")
    if len(got) + 1 == len(want):
        if want[1:] == got:
            return "the leading (batch) axis is missing"
        if want[:-1] == got:
            return "the last axis is missing (summed or indexed away?)"
    if len(got) == len(want) >= 2 and got[:-2] == want[:-2] and got[-2:] == want[-2:][::-1]:
        return "the last two axes are swapped (a transpose too many, or one missing)"
    if sorted(got) == sorted(want) and got != want:
        return "the same axes in another order: check the transposes"
    if math.prod(got) == math.prod(want):
        return "the right number of values in the wrong shape: a reshape is missing or wrong"
    return ""
