"""The named mistakes of causal-attention, as code.

No query row is ever fully masked under the right causal mask, so the -inf and
-1e9 fills agree and there is no alternative convention to accept. Under
``causal-strict`` the first row has no key left: that mistake comes in three
forms (zero row, uniform row from a -1e9 fill, NaN row from an unguarded -inf).
"""

import numpy as np

from mhajudge_reference.shared.grouped_attention import HEAD_SPLITS, attention

F = "causal_self_attention"


def lower(L):
    return np.tril(np.ones((L, L), dtype=bool))            # j <= i: right


def strict(L):
    return np.tril(np.ones((L, L), dtype=bool), k=-1)      # j < i: the diagonal hidden too


def upper(L):
    return np.triu(np.ones((L, L), dtype=bool))            # j >= i: the future kept


def causal(keep=lower, **wrong):
    def fn(x, W_q, W_k, W_v, W_o, num_heads):
        return attention(x, W_q, W_k, W_v, W_o, num_heads, num_heads, keep(x.shape[1]), **wrong)
    return fn


def both_fills(**wrong):
    return [causal(**wrong), causal(fill=-1e9, **wrong)]


MISTAKES = {
    "causal-strict": {F: both_fills(keep=strict) + [causal(keep=strict, guard=False)]},
    "causal-future": {F: both_fills(keep=upper)},
    "no-scale": {F: both_fills(scale=None)},
    "scale-d-model": {F: both_fills(scale="d_model")},
    "softmax-wrong-axis": {F: both_fills(axis=-2)},
    "unstable-softmax": {F: both_fills(stable=False)},
    "heads-interleaved": {F: [f for how in HEAD_SPLITS for f in both_fills(split=how)]},
    "weights-times-keys": {F: both_fills(values=False)},
    "no-output-projection": {F: both_fills(project=False)},
    "mask-after-softmax": {F: both_fills(mask_mode="after")},
    "softmax-whole-array": {F: both_fills(axis=None)},
}

# causal-strict leaves the first row without a key: its NaN is no evidence of overflow.
EVIDENCE = {"unstable-softmax": {F: [causal(keep=strict, guard=False)]}}

ACCEPTED = {}
