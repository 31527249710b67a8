# mhajudge: sampling
# expect-verdict: wrong-answer
# source: https://github.com/meta-llama/llama/blob/main/llama/generation.py
# Meta's sample_top_p in NumPy: softmax(logits / temperature), sort, mask where
# probs_sum - probs_sort > p (the crossing token kept), renormalise, draw. Top-k as
# nanoGPT writes it (logits < v[-1] set to -inf, ties kept). Right everywhere but at an
# exactly representable boundary: with probabilities 0.5, 0.25, 0.25 and top_p = 0.5 the
# first token alone already reaches top_p (the contract's smallest prefix with a total
# >= top_p), but 0.75 - 0.25 > 0.5 is false, so Meta's mask keeps the second token too.
# No named mistake is this one (it is a tie rule), so no diagnosis.
import numpy as np


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad argument")
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    logits = logits / temperature
    if top_k is not None:
        v = np.sort(logits)[::-1][: min(top_k, logits.size)]
        logits = np.where(logits < v[-1], -np.inf, logits)
    probs = np.exp(logits - logits.max())
    probs = probs / probs.sum()
    if top_p is not None:
        probs_idx = np.argsort(-probs, kind="stable")
        probs_sort = probs[probs_idx]
        probs_sum = np.cumsum(probs_sort)
        probs_sort[probs_sum - probs_sort > top_p] = 0.0
        probs = np.zeros_like(probs)
        probs[probs_idx] = probs_sort / probs_sort.sum()
    u = np.random.default_rng(seed).random()
    cdf = np.cumsum(probs)
    return int(min(np.searchsorted(cdf, u * cdf[-1], side="right"), probs.size - 1))
