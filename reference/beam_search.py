"""Beam search over a next-token model: keep the beam_width best hypotheses overall."""

import numpy as np


def beam_search(step, bos, eos, beam_width, max_len):
    live = [([bos], 0.0)]                                   # (tokens, summed log-prob)
    finished = []
    for _ in range(max_len):
        if not live:
            break
        logp = np.asarray(step([tokens for tokens, _ in live]))   # (n_live, V)
        total = np.array([score for _, score in live])[:, None] + logp  # (n_live, V)
        V = total.shape[1]
        best = np.argsort(-total, axis=None)[:beam_width]         # the best over all extensions
        live_next = []
        for flat in best:
            parent, token = divmod(int(flat), V)
            hyp = (live[parent][0] + [token], float(total[parent, token]))
            (finished if token == eos else live_next).append(hyp)
        live = live_next
    ranked = sorted(finished + live, key=lambda h: -h[1])[:beam_width]
    return [tokens for tokens, _ in ranked], [score for _, score in ranked]
