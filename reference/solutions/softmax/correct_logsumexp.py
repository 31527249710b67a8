# mhajudge: softmax
# expect-verdict: accepted
# A correct softmax through log-sum-exp: exp(x - logsumexp(x)).
import numpy as np


def softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return np.exp(x - lse)
