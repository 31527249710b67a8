"""Case generators of softmax that the ``tensors`` DSL cannot express."""

import numpy as np


def with_neg_inf(rng, params, dtype, index):
    """Normal logits of ``shape`` (cycled like tensors' dims), about ``p`` of them -inf,
    each slice along ``axis`` keeping at least one finite logit."""
    shapes = params["shape"]
    shape = tuple(shapes[index % len(shapes)] if isinstance(shapes[0], list) else shapes)
    axis = params.get("axis", -1)
    x = rng.standard_normal(shape) * float(params.get("scale", 1.0))
    blocked = rng.random(shape) < float(params.get("p", 0.4))
    moved = np.moveaxis(blocked, axis, -1)                      # a view: slices along the last axis
    keep = rng.integers(0, moved.shape[-1], size=moved.shape[:-1])
    np.put_along_axis(moved, keep[..., None], False, axis=-1)  # one finite logit per slice
    x[blocked] = -np.inf
    args = {"x": x.astype(np.float32 if dtype == "float32" else np.float64)}
    if "axis" in params:
        args["axis"] = axis
    return args


GENERATORS = {"with_neg_inf": with_neg_inf}
