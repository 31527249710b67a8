"""The named mistakes of mha-batched, as code (no mask, so no fill conventions)."""

from functools import partial

from mhajudge_reference.shared.attention import HEAD_SPLITS, both_precisions, heads

F = "multi_head_attention"


def batched(Q, K, V, n_heads, **wrong):
    """mha-batched with one thing wrong (see attend in reference/shared/attention.py for the knobs)."""
    return heads(Q, K, V, n_heads, **wrong)[0]


MISTAKES = {
    "no-scale": {F: partial(batched, scale=None)},
    "scale-d-model": {F: partial(batched, scale="d_model")},
    "softmax-wrong-axis": {F: partial(batched, axis=-2)},
    "unstable-softmax": {F: both_precisions([partial(batched, stable=False)])},
    "heads-interleaved": {F: [partial(batched, **variant) for variant in HEAD_SPLITS]},
    "weights-times-keys": {F: partial(batched, values=False)},
    "softmax-whole-array": {F: partial(batched, axis=None)},
}

ACCEPTED = {}
