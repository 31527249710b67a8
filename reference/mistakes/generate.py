"""The named mistakes of generate, each a one-line change of the reference's loop.

``prefill-not-causal`` is written in its observable form, an inverted triangle
(position i attends to j >= i): a prefill with no mask at all gives the very same
tokens in a one-layer decoder, since the last position sees every prompt token
either way and the cached keys and values do not depend on the attention.
"""

import numpy as np

from mhajudge_reference.generate import layer_norm, softmax, split_heads

F = "generate"


def _block(x, K_cache, V_cache, p, H, allowed_fn):
    h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])
    q = split_heads(h @ p["W_q"], H)
    K = np.concatenate([K_cache, split_heads(h @ p["W_k"], H)], axis=1)
    V = np.concatenate([V_cache, split_heads(h @ p["W_v"], H)], axis=1)
    L, t = x.shape[0], K_cache.shape[1]
    scores = q @ K.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
    weights = softmax(np.where(allowed_fn(t, L), scores, -np.inf))
    return x + (weights @ V).transpose(1, 0, 2).reshape(L, -1) @ p["W_o"], K, V


def causal(t, L):
    return np.arange(t + L)[None, :] <= t + np.arange(L)[:, None]


def inverted(t, L):
    return np.arange(t + L)[None, :] >= t + np.arange(L)[:, None]


def _generate(prompt, p, H, n, position=lambda P, s: P + s, prefill=causal, final_norm=True):
    E = p["embed"].shape[1]
    K = V = np.zeros((H, 0, E // H))
    P = len(prompt)
    x = p["embed"][[int(t) for t in prompt]] + p["pos"][:P]
    new = []
    while len(new) < n:
        x, K, V = _block(x, K, V, p, H, prefill if not new else causal)
        last = layer_norm(x[-1], p["lnf_gamma"], p["lnf_beta"]) if final_norm else x[-1]
        new.append(int(np.argmax(last @ p["lm_head"])))
        x = p["embed"][[new[-1]]] + p["pos"][[position(P, len(new) - 1)]]
    return np.array(new, dtype=np.int64)


def position_zero(prompt, params, num_heads, max_new_tokens):
    return _generate(prompt, params, num_heads, max_new_tokens, position=lambda P, s: 0)


def position_step_index(prompt, params, num_heads, max_new_tokens):
    return _generate(prompt, params, num_heads, max_new_tokens, position=lambda P, s: s)


def prefill_inverted(prompt, params, num_heads, max_new_tokens):
    return _generate(prompt, params, num_heads, max_new_tokens, prefill=inverted)


def no_final_norm(prompt, params, num_heads, max_new_tokens):
    return _generate(prompt, params, num_heads, max_new_tokens, final_norm=False)


MISTAKES = {
    "decode-position-restart": {F: [position_zero, position_step_index]},
    "prefill-not-causal": {F: [prefill_inverted]},
    "no-final-norm": {F: [no_final_norm]},
}
