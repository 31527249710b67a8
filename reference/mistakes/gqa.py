"""The named mistakes of gqa, as code, and the accepted -1e9 convention.

``attention`` (multi-head attention, grouped when ``num_kv_heads < num_heads``, with
at most one thing done wrong) is in ``reference/shared/grouped_attention.py``;
causal-attention's mistakes reuse it with a causal mask.
"""

from mhajudge_reference.shared.grouped_attention import HEAD_SPLITS, attention

F = "grouped_query_attention"


def grouped(**wrong):
    """The gqa entry point with one mistake; it still checks its arguments."""
    def fn(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
        if num_kv_heads < 1 or num_heads % num_kv_heads != 0:
            raise ValueError("num_heads must be a multiple of num_kv_heads")
        return attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask, **wrong)[0]
    return fn


def both_fills(**wrong):
    """The mistake as written with a -inf fill and with a -1e9 fill."""
    return [grouped(**wrong), grouped(fill=-1e9, **wrong)]


MISTAKES = {
    "gqa-tiled": {F: both_fills(kv="tiled")},
    "no-scale": {F: both_fills(scale=None)},
    "scale-d-model": {F: both_fills(scale="d_model")},
    "softmax-wrong-axis": {F: both_fills(axis=-2)},
    "unstable-softmax": {F: both_fills(stable=False)},
    "mask-after-softmax": {F: both_fills(mask_mode="after")},
    "mask-inverted": {F: both_fills(invert=True)},
    "masked-row-nan": {F: [grouped(guard=False)]},
    "mask-added": {F: [grouped(mask_mode="add", fill=-1e9), grouped(mask_mode="add-raw")]},
    "softmax-whole-array": {F: both_fills(axis=None)},
    "heads-interleaved": {F: [f for how in HEAD_SPLITS for f in both_fills(split=how)]},
    "weights-times-keys": {F: both_fills(values=False)},
    "no-output-projection": {F: both_fills(project=False)},
}

EVIDENCE = {"unstable-softmax": {F: [grouped(guard=False)]}}

# A fully masked row may also give uniform weights, as a -1e9 fill does.
ACCEPTED = {F: [grouped(fill=-1e9)]}
