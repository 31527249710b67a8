"""The named mistakes of sdpa, as code, and the accepted -1e9 convention."""

from functools import partial

from mhajudge_reference.shared.attention import attend

F = "scaled_dot_product_attention"


def attention(Q, K, V, mask=None, *, scale=True, **wrong):
    """Attention with one thing done wrong (or a different fill when ``fill`` is finite);
    the core (reference/shared/attention.py) is shared with the multi-head problems' mistakes."""
    return attend(Q, K, V, mask, scale="d_k" if scale else None, **wrong)


def both_fills(**wrong):
    """The mistake as written with a -inf fill and with a -1e9 fill."""
    return [partial(attention, **wrong), partial(attention, fill=-1e9, **wrong)]


MISTAKES = {
    "no-scale": {F: both_fills(scale=False)},
    "softmax-wrong-axis": {F: both_fills(axis=-2)},
    "unstable-softmax": {F: both_fills(stable=False)},
    "mask-after-softmax": {F: both_fills(mask_mode="after")},
    "mask-inverted": {F: both_fills(invert=True)},
    "weights-times-keys": {F: both_fills(values=False)},
    "masked-row-nan": {F: [partial(attention, guard=False)]},
    "mask-added": {F: [partial(attention, fill=-1e9, mask_mode="add"), partial(attention, mask_mode="add-raw")]},
    "softmax-whole-array": {F: both_fills(axis=None)},
}

# A NaN on a fully masked row is also what a stable softmax without a guard gives:
# no evidence of a missing max subtraction by itself.
EVIDENCE = {"unstable-softmax": {F: [partial(attention, guard=False)]}}

# A fully masked row may also give uniform weights, as a -1e9 fill does.
ACCEPTED = {F: [partial(attention, fill=-1e9)]}
