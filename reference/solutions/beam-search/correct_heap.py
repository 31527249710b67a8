# mhajudge: beam-search
# expect-verdict: accepted
# Correct, written another way: one step() call per live hypothesis, heapq for the best extensions.
import heapq
import math


def beam_search(step, bos, eos, beam_width, max_len):
    live = [(0.0, [bos])]
    done = []
    for _ in range(max_len):
        if not live:
            break
        cands = []
        for score, seq in live:
            row = step([seq])[0]
            for tok in range(len(row)):
                cands.append((score + float(row[tok]), seq + [tok]))
        best = heapq.nlargest(beam_width, cands, key=lambda c: c[0])
        live = []
        for score, seq in best:
            (done if seq[-1] == eos else live).append((score, seq))
    final = heapq.nlargest(beam_width, done + live, key=lambda c: c[0])
    assert all(math.isfinite(s) for s, _ in final)
    return [seq for _, seq in final], [s for s, _ in final]
