"""The named mistakes of mha-masked, as code, and the accepted -1e9 convention."""

from functools import partial

from mhajudge_reference.shared.attention import HEAD_SPLITS, TRANSPOSED, both_precisions, forms, projected

F = "multi_head_attention"


def masked(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None, **wrong):
    """mha-masked with one thing wrong (see projected in reference/shared/attention.py for the knobs)."""
    return projected(Q, K, V, Wq, Wk, Wv, Wo, h, mask, **wrong)[0]


MISTAKES = {
    "no-scale": {F: forms(masked, scale=None)},
    "scale-d-model": {F: forms(masked, scale="d_model")},
    "softmax-wrong-axis": {F: forms(masked, axis=-2)},
    "unstable-softmax": {F: both_precisions(forms(masked, stable=False))},
    "heads-interleaved": {F: forms(masked, HEAD_SPLITS)},
    "weights-times-keys": {F: forms(masked, values=False)},
    "mask-after-softmax": {F: [partial(masked, mask_mode="after")]},
    "mask-inverted": {F: forms(masked, invert=True)},
    "no-output-projection": {F: forms(masked, project_out=False)},
    "projection-transposed": {F: forms(masked, TRANSPOSED)},
    "masked-row-nan": {F: [partial(masked, guard=False)]},
    "mask-added": {F: [partial(masked, fill=-1e9, mask_mode="add"), partial(masked, mask_mode="add-raw")]},
    "softmax-whole-array": {F: forms(masked, axis=None)},
}

EVIDENCE = {"unstable-softmax": {F: both_precisions([partial(masked, guard=False)])}}

# A fully masked row may also give uniform weights, as a -1e9 fill does.
ACCEPTED = {F: [partial(masked, fill=-1e9)]}
