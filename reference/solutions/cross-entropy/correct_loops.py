# mhajudge: cross-entropy
# expect-verdict: accepted
# Row by row with the math module and lists; the loss comes back as a 0-d array.
import math

import numpy as np


def cross_entropy(logits, targets, ignore_index=-100):
    N, V = len(logits), len(logits[0])
    kept = [n for n in range(N) if int(targets[n]) != ignore_index]
    for n in kept:
        if not 0 <= int(targets[n]) < V:
            raise ValueError(f"row {n}: target {int(targets[n])} is not a class")
    grad = [[0.0] * V for _ in range(N)]
    total = 0.0
    for n in kept:
        row = [float(v) for v in logits[n]]
        top = max(row)
        z = sum(math.exp(v - top) for v in row)
        t = int(targets[n])
        total += top + math.log(z) - row[t]
        for c in range(V):
            grad[n][c] = (math.exp(row[c] - top) / z - (c == t)) / len(kept)
    return np.array(total / len(kept) if kept else 0.0), grad
