"""The named mistakes of kv-cache, as code."""

import math
from functools import partial

import numpy as np

from mhajudge_reference.shared.step_heads import step_heads

F = "attention_step"


def step(x_t, cache, W_q, W_k, W_v, W_o, num_heads, *, scale="d_k", heads="contiguous",
         project=True, attend="all", cache_out="appended", axis=-1):
    """One decoding step with one thing done wrong."""
    B, _, E = x_t.shape
    d_k = E // num_heads
    split, merge = step_heads(B, E, num_heads, heads)

    q, k_new, v_new = split(x_t @ W_q), split(x_t @ W_k), split(x_t @ W_v)
    if cache is None:
        k, v = k_new, v_new
    else:
        k = np.concatenate([cache[0], k_new], axis=2)
        v = np.concatenate([cache[1], v_new], axis=2)
    if attend == "new":  # attends to the newest token alone
        k_att, v_att = k_new, v_new
    else:
        k_att, v_att = k, v
    scores = q @ np.swapaxes(k_att, -1, -2)
    if scale == "d_k":
        scores = scores / math.sqrt(d_k)
    elif scale == "d_model":
        scores = scores / math.sqrt(E)
    e = np.exp(scores - scores.max(axis=axis, keepdims=True))
    out = merge((e / e.sum(axis=axis, keepdims=True)) @ v_att)
    if project:
        out = out @ W_o
    if cache_out == "unchanged" and cache is not None:
        return out, cache
    return out, (k, v)


MISTAKES = {
    "cache-not-appended": {F: [partial(step, attend="new"), partial(step, cache_out="unchanged")]},
    "no-scale": {F: partial(step, scale=None)},
    "scale-d-model": {F: partial(step, scale="d_model")},
    "softmax-wrong-axis": {F: partial(step, axis=-2)},
    "heads-interleaved": {F: partial(step, heads="interleaved")},
    "no-output-projection": {F: partial(step, project=False)},
}

ACCEPTED = {}
