"""The named mistakes of mha-qkv, as code, per entry point."""

from functools import partial

from mhajudge_reference.shared.attention import HEAD_SPLITS, attend, both_precisions, heads

QKV, ONE, MHA = "compute_qkv", "self_attention", "multi_head_attention"


def compute_qkv_transposed(X, W_q, W_k, W_v):
    return X @ W_q.T, X @ W_k.T, X @ W_v.T


def one_head(Q, K, V, **wrong):
    return attend(Q, K, V, **wrong)[0]


def many_heads(Q, K, V, n_heads, **wrong):
    return heads(Q, K, V, n_heads, **wrong)[0]


def both(**wrong):
    """A mistake inside the attention itself shows in self_attention and in multi_head_attention."""
    return {ONE: partial(one_head, **wrong), MHA: partial(many_heads, **wrong)}


def unstable():
    """No max subtraction, computed in the case's dtype or in float64."""
    return {fn: both_precisions([f]) for fn, f in both(stable=False).items()}


MISTAKES = {
    "no-scale": both(scale=None),
    "softmax-wrong-axis": both(axis=-2),
    "unstable-softmax": unstable(),
    "weights-times-keys": both(values=False),
    "softmax-whole-array": both(axis=None),
    "scale-d-model": {MHA: partial(many_heads, scale="d_model")},
    "heads-interleaved": {MHA: [partial(many_heads, **variant) for variant in HEAD_SPLITS]},
    "projection-transposed": {QKV: compute_qkv_transposed},
}

ACCEPTED = {}
