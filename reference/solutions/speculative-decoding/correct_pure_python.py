# mhajudge: speculative-decoding
# expect-verdict: accepted
# Correct in plain Python lists, with random.Random(seed) instead of NumPy's generator.
import random


def draw(rng, weights):
    total = sum(weights)
    u = rng.random() * total
    acc = 0.0
    for t, w in enumerate(weights):
        acc += w
        if u < acc and w > 0:
            return t
    return max(t for t, w in enumerate(weights) if w > 0)


def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    rng = random.Random(seed)
    out = []
    for i, x in enumerate(draft_tokens):
        x = int(x)
        p, q = list(map(float, target_probs[i])), list(map(float, draft_probs[i]))
        if rng.random() * q[x] < p[x]:
            out.append(x)
        else:
            out.append(draw(rng, [max(0.0, a - b) for a, b in zip(p, q)]))
            return out
    out.append(draw(rng, list(map(float, target_probs[len(draft_tokens)]))))
    return out
