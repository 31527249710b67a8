# mhajudge: beam-search
# expect-verdict: accepted
# Correct, Hugging Face style: finished beams stay in the batch sent to step() (their rows ignored),
# so step() sees up to beam_width prefixes at every step; scores as a NumPy array, sequences as arrays.
import numpy as np


def beam_search(step, bos, eos, beam_width, max_len):
    seqs = [[bos]]
    scores = np.zeros(1)
    done = np.zeros(1, dtype=bool)
    finished = []
    for _ in range(max_len):
        if done.all():
            break
        logp = np.asarray(step(seqs), dtype=np.float64)
        logp[done] = -np.inf                       # finished beams do not extend
        total = scores[:, None] + logp
        top = np.argsort(total.ravel())[::-1][:beam_width]
        top = top[np.isfinite(total.ravel()[top])]
        parents, toks = np.unravel_index(top, total.shape)
        new_seqs, new_scores = [], []
        for p, t in zip(parents, toks):
            s = seqs[p] + [int(t)]
            if t == eos:
                finished.append((total[p, t], s))
            else:
                new_seqs.append(s)
                new_scores.append(total[p, t])
        seqs, scores = new_seqs, np.array(new_scores)
        done = np.zeros(len(seqs), dtype=bool)
        if not seqs:
            break
    pool = finished + list(zip(scores, seqs))
    pool.sort(key=lambda x: -x[0])
    pool = pool[:beam_width]
    return [np.array(s) for _, s in pool], np.array([float(x) for x, _ in pool])
