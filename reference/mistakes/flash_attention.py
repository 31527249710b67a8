"""The named mistakes of flash-attention, as code."""

import math
from functools import partial

import numpy as np

F = "flash_attention"


def tiled(Q, K, V, block_size=64, causal=False, *, rescale_sum=True, rescale_acc=True, block_max=False,
          scale=True):
    """Online-softmax attention, with the rescaling of the running sum and output optional.

    ``block_max``: each key block is exponentiated against its own maximum and
    simply added up, with no running maximum at all.
    """
    B, H, L, d = Q.shape
    out = np.empty_like(Q)
    for i0 in range(0, L, block_size):
        i1 = min(i0 + block_size, L)
        q = Q[:, :, i0:i1] / math.sqrt(d) if scale else Q[:, :, i0:i1]
        m = np.full((B, H, i1 - i0, 1), -np.inf, dtype=Q.dtype)
        l = np.zeros((B, H, i1 - i0, 1), dtype=Q.dtype)
        acc = np.zeros((B, H, i1 - i0, d), dtype=Q.dtype)
        for j0 in range(0, i1 if causal else L, block_size):
            j1 = min(j0 + block_size, L)
            s = q @ K[:, :, j0:j1].swapaxes(-1, -2)
            if causal:
                s = np.where(np.arange(i0, i1)[:, None] >= np.arange(j0, j1)[None, :], s, -np.inf)
            if block_max:
                m_new = s.max(axis=-1, keepdims=True)
                m_new = np.where(np.isfinite(m_new), m_new, 0.0)
            else:
                m_new = np.maximum(m, s.max(axis=-1, keepdims=True))
            p = np.exp(s - m_new)
            alpha = np.exp(m - m_new)
            l = (alpha * l if rescale_sum else l) + p.sum(axis=-1, keepdims=True)
            acc = (alpha * acc if rescale_acc else acc) + p @ V[:, :, j0:j1]
            m = m_new
        out[:, :, i0:i1] = acc / l
    return out


MISTAKES = {
    "flash-no-rescale": {F: [
        partial(tiled, rescale_sum=False, rescale_acc=False),
        partial(tiled, rescale_acc=False),
        partial(tiled, rescale_sum=False),
        partial(tiled, rescale_sum=False, rescale_acc=False, block_max=True),
    ]},
    "no-scale": {F: partial(tiled, scale=False)},
}

ACCEPTED = {}
