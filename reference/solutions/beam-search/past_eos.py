# mhajudge: beam-search
# expect-verdict: wrong-answer
# expect-diagnosis: beam-past-eos
# Never takes finished hypotheses out of the beam: they keep being extended after eos.
import numpy as np


def beam_search(step, bos, eos, beam_width, max_len):
    beams = [([bos], 0.0)]
    for _ in range(max_len):
        logp = np.asarray(step([b[0] for b in beams]))
        total = np.array([b[1] for b in beams])[:, None] + logp
        order = np.argsort(-total.ravel())[:beam_width]
        V = total.shape[1]
        beams = [(beams[f // V][0] + [int(f % V)], float(total.ravel()[f])) for f in order]
    return [b[0] for b in beams], [b[1] for b in beams]
