"""The named mistakes of softmax, as code."""

import numpy as np

F = "softmax"


def unstable(x, axis=-1):
    e = np.exp(x)                                   # overflows to inf above ~709 (float32: ~88)
    return e / e.sum(axis=axis, keepdims=True)


def unstable_float64(x, axis=-1):
    """The same on a float32 case computed in float64, e.g. after np.asarray(x, float)."""
    return unstable(np.asarray(x, dtype=np.float64), axis)


def fixed_axis(to):
    def softmax(x, axis=-1):
        e = np.exp(x - x.max(axis=to, keepdims=True))
        return e / e.sum(axis=to, keepdims=True)
    return softmax


def global_max(x, axis=-1):
    e = np.exp(x - x.max())                         # one max for the whole array: other slices underflow
    return e / e.sum(axis=axis, keepdims=True)


def whole_array(x, axis=-1):
    e = np.exp(x - x.max())
    return e / e.sum()                              # one normaliser for the whole array


MISTAKES = {
    "unstable-softmax": {F: [unstable, unstable_float64]},
    # the axis argument ignored (always the last axis), or always the first axis
    "softmax-wrong-axis": {F: [fixed_axis(-1), fixed_axis(0)]},
    "softmax-global-max": {F: global_max},
    "softmax-whole-array": {F: whole_array},
}

def stable_unguarded(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))   # a row of only -inf: -inf - -inf = NaN
    return e / e.sum(axis=axis, keepdims=True)


# A row of only -inf logits is NaN with or without the max subtraction.
EVIDENCE = {"unstable-softmax": {F: [stable_unguarded]}}

ACCEPTED = {}
