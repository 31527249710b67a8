# mhajudge: beam-search
# expect-verdict: wrong-answer
# Right answers, but every candidate's score is recomputed from the model token by token at every step
# (no running scores): the judge counts the prefixes asked for and says so.
import numpy as np


def score_of(step, seq):
    prefixes = [seq[:i] for i in range(1, len(seq))]
    rows = np.asarray(step(prefixes))
    return float(sum(rows[i - 1, seq[i]] for i in range(1, len(seq))))


def beam_search(step, bos, eos, beam_width, max_len):
    live, finished = [[bos]], []
    for _ in range(max_len):
        if not live:
            break
        V = np.asarray(step([live[0]])).shape[1]
        cands = [seq + [t] for seq in live for t in range(V)]
        scored = sorted(((score_of(step, c), c) for c in cands), key=lambda x: -x[0])[:beam_width]
        live = []
        for s, c in scored:
            (finished if c[-1] == eos else live).append(c)
    pool = sorted(((score_of(step, c), c) for c in finished + live), key=lambda x: -x[0])[:beam_width]
    return [c for _, c in pool], [s for s, _ in pool]
