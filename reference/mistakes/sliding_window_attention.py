"""The named mistakes of sliding-window-attention, as code.

Each is causal attention through ``reference/shared/grouped_attention.py`` with a
wrong key set (or one other thing wrong). A window one too small leaves the
query with no key at all when ``window = 1``: that comes out as a zero row
(guarded ``-inf`` fill), a uniform row (``-1e9`` fill) or NaN (unguarded).
Every form raises ``ValueError`` for ``window < 1`` as the contract asks, so
the mistake differs from the right answer in one thing only.
"""

import numpy as np

from mhajudge_reference.shared.grouped_attention import HEAD_SPLITS, attention

F = "sliding_window_attention"


def band(L, window):
    i, j = np.arange(L)[:, None], np.arange(L)[None, :]
    return (j <= i) & (j > i - window)                      # right: window keys, itself included


def band_wide(L, window):
    i, j = np.arange(L)[:, None], np.arange(L)[None, :]
    return (j <= i) & (j >= i - window)                     # window + 1 keys


def band_narrow(L, window):
    i, j = np.arange(L)[:, None], np.arange(L)[None, :]
    return (j <= i) & (j > i - window + 1)                  # window - 1 keys


def symmetric(L, window):
    i, j = np.arange(L)[:, None], np.arange(L)[None, :]
    return np.abs(i - j) < window                           # the future inside the window too


def causal_only(L, window):
    return np.tril(np.ones((L, L), dtype=bool))             # the window ignored


def windowed(keep=band, **wrong):
    def fn(x, W_q, W_k, W_v, W_o, num_heads, window):
        if window < 1:
            raise ValueError("window must be at least 1")
        return attention(x, W_q, W_k, W_v, W_o, num_heads, num_heads, keep(x.shape[1], window), **wrong)
    return fn


def both_fills(**wrong):
    return [windowed(**wrong), windowed(fill=-1e9, **wrong)]


MISTAKES = {
    "window-off-by-one": {F: both_fills(keep=band_wide) + both_fills(keep=band_narrow)
                          + [windowed(keep=band_narrow, guard=False)]},
    "window-not-causal": {F: both_fills(keep=symmetric)},
    "window-ignored": {F: both_fills(keep=causal_only)},
    "no-scale": {F: both_fills(scale=None)},
    "scale-d-model": {F: both_fills(scale="d_model")},
    "softmax-wrong-axis": {F: both_fills(axis=-2)},
    "unstable-softmax": {F: both_fills(stable=False)},
    "heads-interleaved": {F: [f for how in HEAD_SPLITS for f in both_fills(split=how)]},
    "weights-times-keys": {F: both_fills(values=False)},
    "no-output-projection": {F: both_fills(project=False)},
}

ACCEPTED = {}
