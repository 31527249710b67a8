"""The named mistakes of attention-block, as a block with knobs.

``ddof=1`` is ``layernorm-unbiased``, ``rescale=False`` is ``dropout-no-rescale``,
``eval_dropout=True`` is ``dropout-in-eval``. On the statistical cases the judge
does not run them: ``match_mistake_exact`` in ``reference/drivers/attention_block.py``
reads the knobs from the partial and tests the candidate's outputs against the
mistake's exact mean and spread.
"""

import math
from functools import partial

import numpy as np

from mhajudge_reference.sdpa import masked_softmax


def layer_norm(x, gamma, beta, eps=1e-5, *, ddof=0):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True, ddof=ddof)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def attention_block(x, params, num_heads, dropout_p=0.0, training=False, rng=None, *,
                    ddof=0, rescale=True, eval_dropout=False):
    B, L, E = x.shape
    d_k = E // num_heads
    drop = (training or eval_dropout) and dropout_p > 0
    scale = 1.0 / (1.0 - dropout_p) if rescale else 1.0

    def dropout(a):
        return np.where(rng.random(a.shape) >= dropout_p, a * scale, 0.0)

    h = layer_norm(x, params["ln_gamma"], params["ln_beta"], ddof=ddof)
    q, k, v = ((h @ params[w]).reshape(B, L, num_heads, d_k).transpose(0, 2, 1, 3) for w in ("W_q", "W_k", "W_v"))
    weights = masked_softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k))
    if drop:
        weights = dropout(weights)
    result = (weights @ v).transpose(0, 2, 1, 3).reshape(B, L, E) @ params["W_o"]
    if drop:
        result = dropout(result)
    return x + result


MISTAKES = {
    "layernorm-unbiased": {"layer_norm": partial(layer_norm, ddof=1),
                           "attention_block": partial(attention_block, ddof=1)},
    "dropout-no-rescale": {"attention_block": partial(attention_block, rescale=False)},
    "dropout-in-eval": {"attention_block": partial(attention_block, eval_dropout=True)},
}
