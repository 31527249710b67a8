# mhajudge: sdpa
import numpy as np

NEG = -np.inf


def _log_normalise(logits):
    """log-softmax over the last axis; a row of -inf stays -inf."""
    top = np.max(logits, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    lse = np.log(np.sum(np.exp(logits - top), axis=-1, keepdims=True)) + top
    return logits - lse


def scaled_dot_product_attention(Q, K, V, mask=None):
    dim = K.shape[-1]
    logits = np.einsum("...id,...jd->...ij", Q, K) * dim ** -0.5
    if mask is not None:
        logits = np.where(np.asarray(mask) != 0, logits, NEG)
    with np.errstate(invalid="ignore", divide="ignore"):
        logp = _log_normalise(logits)
    weights = np.nan_to_num(np.exp(logp), nan=0.0)
    return np.einsum("...ij,...jd->...id", weights, V), weights
