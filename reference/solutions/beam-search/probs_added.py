# mhajudge: beam-search
# expect-verdict: wrong-answer
# expect-diagnosis: beam-probs-added
# Adds probabilities (exp of the log-probabilities) to the score.
import numpy as np


def beam_search(step, bos, eos, beam_width, max_len):
    beams, finished = [([bos], 0.0)], []
    for _ in range(max_len):
        if not beams:
            break
        probs = np.exp(np.asarray(step([b[0] for b in beams])))
        total = np.array([b[1] for b in beams])[:, None] + probs
        order = np.argsort(-total.ravel())[:beam_width]
        nxt = []
        for f in order:
            p, t = divmod(int(f), total.shape[1])
            (finished if t == eos else nxt).append((beams[p][0] + [t], float(total[p, t])))
        beams = nxt
    pool = sorted(finished + beams, key=lambda b: -b[1])[:beam_width]
    return [b[0] for b in pool], [b[1] for b in pool]
