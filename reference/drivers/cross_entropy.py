"""cross-entropy cases: logits, and targets with ignored rows placed on purpose.

The ``tensors`` generator cannot put ``ignore_index`` at chosen rows nor make a
target invalid, so one generator, ``rows``, draws them. Params (a list value is
cycled over the count):

- ``N``, ``V``: rows and classes;
- ``scale`` (default 2) and ``shift`` (default 0): logits ``normal * scale + shift``,
  so ``scale: 1e4`` gives rows with huge gaps (a naive softmax underflows to
  log(0)) and ``shift: 1e4`` rows whose every logit is near 1e4 (a naive exp
  overflows);
- ``ignored``: ``none``, ``some`` (a random subset, at least one kept and one
  ignored when N > 1), ``all``, or ``tail`` (the last rows, as padding after a
  sequence);
- ``ignore_index``: passed only when given, so the default -100 is exercised;
- ``bad``: ``high`` (a target equal to V), ``negative`` (-1 that is not the
  ignore_index), ``default-ignore`` (-100 while ignore_index is another value),
  for the ``ValueError`` cases;
- ``targets_dtype`` (default int64), ``seed`` (a fixed seed, for sample cases).
"""

import numpy as np


def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) else value


def rows(rng, params, dtype, index):
    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    N, V = _pick(params, "N", index), _pick(params, "V", index)
    scale, shift = _pick(params, "scale", index, 2.0), _pick(params, "shift", index, 0.0)
    dt = np.float32 if dtype == "float32" else np.float64
    logits = (rng.standard_normal((N, V)) * scale + shift).astype(dt)
    ignore_index = _pick(params, "ignore_index", index)
    marker = -100 if ignore_index is None else ignore_index
    targets = rng.integers(0, V, size=N)
    if marker >= 0:                      # a class id used as padding (say 0): keep the others off it
        targets = np.where(targets == marker, (marker + 1) % V, targets)
    how = _pick(params, "ignored", index, "none")
    if how == "all":
        drop = np.ones(N, dtype=bool)
    elif how == "tail":
        drop = np.arange(N) >= N - max(1, N // 3)
    elif how == "some":
        drop = rng.random(N) < 0.4
        if N > 1:                        # at least one row ignored and one kept
            a, b = rng.choice(N, size=2, replace=False)
            drop[a], drop[b] = True, False
    else:
        drop = np.zeros(N, dtype=bool)
    targets = np.where(drop, marker, targets)
    bad = _pick(params, "bad", index)
    if bad is not None:
        row = int(rng.integers(0, N))
        targets[row] = {"high": V, "negative": -1, "default-ignore": -100}[bad]
    args = {"logits": logits, "targets": targets.astype(_pick(params, "targets_dtype", index, "int64"))}
    if ignore_index is not None:
        args["ignore_index"] = ignore_index
    return args


GENERATORS = {"rows": rows}
