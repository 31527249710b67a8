"""The named mistakes of mha-projected, as code, and the accepted -1e9 convention.

The attention-with-one-thing-wrong core (``projected``, ``forms``, ...) is in
``reference/shared/attention.py``.
"""

from functools import partial

from mhajudge_reference.shared.attention import HEAD_SPLITS, TRANSPOSED, both_precisions, forms, projected

F = "multi_head_attention"

MISTAKES = {
    "no-scale": {F: forms(projected, scale=None)},
    "scale-d-model": {F: forms(projected, scale="d_model")},
    "softmax-wrong-axis": {F: forms(projected, axis=-2)},
    "unstable-softmax": {F: both_precisions(forms(projected, stable=False))},
    "heads-interleaved": {F: forms(projected, HEAD_SPLITS)},
    "weights-times-keys": {F: forms(projected, values=False)},
    "mask-after-softmax": {F: [partial(projected, mask_mode="after")]},
    "mask-inverted": {F: forms(projected, invert=True)},
    "no-output-projection": {F: forms(projected, project_out=False)},
    "projection-transposed": {F: forms(projected, TRANSPOSED)},
    "masked-row-nan": {F: [partial(projected, guard=False)]},
    "mask-added": {F: [partial(projected, fill=-1e9, mask_mode="add"), partial(projected, mask_mode="add-raw")]},
    "softmax-whole-array": {F: forms(projected, axis=None)},
}

EVIDENCE = {"unstable-softmax": {F: both_precisions([partial(projected, guard=False)])}}

# A fully masked row may also give uniform weights, as a -1e9 fill does.
ACCEPTED = {F: [partial(projected, fill=-1e9)]}
