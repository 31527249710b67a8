"""The named mistakes of rope-kv-cache, as code.

``step`` is the right decoding step with one keyword naming what goes wrong.
"""

import math
from functools import partial

import numpy as np

from mhajudge_reference.shared.step_heads import step_heads

F = "rope_attention_step"


def rope(x, positions, base=10000.0, *, pairing="half", sign=1.0):
    """RoPE over the last axis at ``positions`` (one per row of axis -2); ``pairing="adjacent"``
    turns features (2i, 2i+1) together; ``sign=-1`` rotates by -theta."""
    d = x.shape[-1]
    half = d // 2
    theta = np.asarray(positions, dtype=np.float64)[:, None] * base ** (-2.0 * np.arange(half) / d)
    cos, sin = np.cos(theta), sign * np.sin(theta)
    if pairing == "adjacent":
        x1, x2 = x[..., 0::2], x[..., 1::2]
        out = np.empty(x.shape)
        out[..., 0::2], out[..., 1::2] = x1 * cos - x2 * sin, x2 * cos + x1 * sin
        return out
    x1, x2 = x[..., :half], x[..., half:]
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


def step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0, *, at="position",
         on_values=False, cached="rotated", pairing="half", sign=1.0, use_base=True, scale="d_k",
         heads="contiguous", project=True, attend="all", cache_out="appended"):
    """One decoding step with one thing done wrong:

    ``at``: "position" (right), "t" (the cache length), "zero";
    ``on_values``: the values rotated too; ``cached``: "rotated" (right), "same-angle"
    (unrotated keys cached, every key rotated at the new position), "own-angle" (unrotated
    keys cached, each rotated at its own position at every step);
    ``pairing``, ``sign``, ``use_base=False`` (10000 whatever the base): RoPE itself wrong;
    ``scale`` "d_k" / "d_model" / None, ``heads`` "interleaved", ``project=False``,
    ``attend="new"``, ``cache_out="unchanged"``: the kv-cache mistakes.
    """
    B, _, E = x_t.shape
    d_k = E // num_heads
    t = 0 if cache is None else cache[0].shape[2]
    split, merge = step_heads(B, E, num_heads, heads)

    b = base if use_base else 10000.0
    p = {"position": position, "t": t, "zero": 0}[at]
    r = partial(rope, base=b, pairing=pairing, sign=sign)
    q, k, v = split(x_t @ W_q), split(x_t @ W_k), split(x_t @ W_v)
    q = r(q, [p])
    if cached == "rotated":
        k = r(k, [p])
    if on_values:
        v = r(v, [p])
    if cache is not None:
        k = np.concatenate([cache[0], k], axis=2)
        v = np.concatenate([cache[1], v], axis=2)
    if cached == "same-angle":
        k_att = r(k, [p] * (t + 1))
    elif cached == "own-angle":
        k_att = r(k, np.arange(p - t, p + 1))
    else:
        k_att = k
    v_att = v
    if attend == "new":
        k_att, v_att = k_att[:, :, -1:], v[:, :, -1:]
    scores = q @ np.swapaxes(k_att, -1, -2)
    if scale == "d_k":
        scores = scores / math.sqrt(d_k)
    elif scale == "d_model":
        scores = scores / math.sqrt(E)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    out = merge((e / e.sum(axis=-1, keepdims=True)) @ v_att)
    if project:
        out = out @ W_o
    if cache_out == "unchanged" and cache is not None:
        return out, cache
    return out, (k, v)


MISTAKES = {
    "rope-position-restart": {F: [partial(step, at="t"), partial(step, at="zero")]},
    "rope-on-values": {F: partial(step, on_values=True)},
    "rope-cache-unrotated": {F: [partial(step, cached="same-angle"), partial(step, cached="own-angle")]},
    "rope-interleaved": {F: partial(step, pairing="adjacent")},
    "rope-rotated-backwards": {F: partial(step, sign=-1.0)},
    "rope-base-ignored": {F: partial(step, use_base=False)},
    "cache-not-appended": {F: [partial(step, attend="new"), partial(step, cache_out="unchanged")]},
    "no-scale": {F: partial(step, scale=None)},
    "scale-d-model": {F: partial(step, scale="d_model")},
    "heads-interleaved": {F: partial(step, heads="interleaved")},
    "no-output-projection": {F: partial(step, project=False)},
}

ACCEPTED = {}
