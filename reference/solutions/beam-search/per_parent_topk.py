# mhajudge: beam-search
# expect-verdict: wrong-answer
# expect-diagnosis: beam-per-parent-topk
# Each beam keeps its own top beam_width tokens, then the first beam_width candidates are kept, in parent order.
import numpy as np


def beam_search(step, bos, eos, beam_width, max_len):
    beams, finished = [([bos], 0.0)], []
    for _ in range(max_len):
        if not beams:
            break
        logp = np.asarray(step([b[0] for b in beams]))
        cands = []
        for (seq, s), row in zip(beams, logp):
            for t in np.argsort(row)[::-1][:max(1, beam_width // len(beams))]:
                cands.append((seq + [int(t)], s + row[t]))
        beams = []
        for seq, s in cands[:beam_width]:
            (finished if seq[-1] == eos else beams).append((seq, s))
    pool = sorted(finished + beams, key=lambda b: -b[1])[:beam_width]
    return [b[0] for b in pool], [b[1] for b in pool]
