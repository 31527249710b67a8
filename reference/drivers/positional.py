"""Case generators for positional: RoPE inputs at consecutive, offset positions.

``rope`` draws the arguments with the ``tensors`` DSL (``dims``, ``args``) and
adds ``positions = start + arange(L)``, the positions of a decoding window, with
``L = x.shape[-2]``. ``start`` is a number, or ``[low, high]`` to draw it from
``[low, high)``::

    generator: rope
    params:
      dims: {B: 2, L: 3, d: 8}
      args: {x: normal(B, L, d)}
      start: [20, 60]
"""

import numpy as np

from mhajudge.author import tensors


def rope(rng, params, dtype, index):
    args = tensors(rng, params, dtype, index, "problems/positional.yaml: hidden (rope).params")
    start = params.get("start", 0)
    if isinstance(start, list):
        start = int(rng.integers(start[0], start[1]))
    L = args["x"].shape[-2]
    args["positions"] = start + np.arange(L, dtype=np.int64)     # (L,)
    return args


GENERATORS = {"rope": rope}
