# mhajudge: sampling
# expect-verdict: wrong-answer
# expect-diagnosis: top-p-drops-boundary
# source: https://github.com/openai/gpt-2/blob/master/src/sample.py
# OpenAI's GPT-2 sampler in NumPy: logits / temperature, top_k_logits (ties with the
# k-th kept: logits < min_values), then top_p_logits, which keeps the sorted tokens whose
# cumulative probability is <= p (at least one): the token that crosses p is dropped.
import numpy as np


def top_k_logits(logits, k):
    if k is None or k == 0:
        return logits
    min_values = np.sort(logits)[::-1][min(k, logits.size) - 1]
    return np.where(logits < min_values, -1e10, logits)


def top_p_logits(logits, p):
    sorted_logits = np.sort(logits)[::-1]
    e = np.exp(sorted_logits - sorted_logits.max())
    cumulative_probs = np.cumsum(e / e.sum())
    index = max(int(np.sum(cumulative_probs <= p)) - 1, 0)
    min_values = sorted_logits[index]
    return np.where(logits < min_values, -1e10, logits)


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0 or (top_k is not None and top_k < 1) or (top_p is not None and not 0 < top_p <= 1):
        raise ValueError("bad argument")
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    logits = logits / temperature
    logits = top_k_logits(logits, top_k)
    if top_p is not None:
        logits = top_p_logits(logits, top_p)
    e = np.exp(logits - logits.max())
    probs = e / e.sum()
    u = np.random.default_rng(seed).random()
    return int(min(np.searchsorted(np.cumsum(probs), u, side="right"), probs.size - 1))
