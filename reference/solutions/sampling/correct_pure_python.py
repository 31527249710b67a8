# mhajudge: sampling
# expect-verdict: accepted
# A correct sampler in plain Python lists, with the standard library's random.Random(seed).
import math
import random


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0:
        raise ValueError(f"temperature={temperature} < 0")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k={top_k} < 1")
    if top_p is not None and not (0 < top_p <= 1):
        raise ValueError(f"top_p={top_p} outside (0, 1]")
    xs = [float(v) for v in logits]
    if temperature == 0:
        best = 0
        for i, v in enumerate(xs):
            if v > xs[best]:
                best = i
        return best
    xs = [v / temperature for v in xs]
    alive = list(range(len(xs)))
    if top_k is not None:
        kth = sorted(xs, reverse=True)[min(top_k, len(xs)) - 1]
        alive = [i for i in alive if xs[i] >= kth]
    m = max(xs[i] for i in alive)
    weights = {i: math.exp(xs[i] - m) for i in alive}
    total = sum(weights.values())
    probs = {i: w / total for i, w in weights.items()}
    if top_p is not None:
        ranked = sorted(alive, key=lambda i: -probs[i])
        kept, mass = [], 0.0
        for i in ranked:
            kept.append(i)
            mass += probs[i]
            if mass >= top_p:
                break
        total = sum(probs[i] for i in kept)
        probs = {i: probs[i] / total for i in kept}
    u = random.Random(seed).random()
    acc = 0.0
    last = None
    for i in sorted(probs):
        acc += probs[i]
        last = i
        if u < acc:
            return i
    return last
