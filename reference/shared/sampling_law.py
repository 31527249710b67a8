"""The exact next-token distribution of sampling, and the knobs of its named mistakes.

:func:`law` is the distribution ``sample_token`` must draw from: temperature, then
top-k, then top-p (nucleus), with the tokens each step excludes explained. Each named
mistake is the same law with one knob turned (``KNOBS``). The judge's driver
(``reference/drivers/sampling.py``) checks draws against it and the mistakes
(``reference/mistakes/sampling.py``) draw from it; both import it from here, so
neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CORRECT = {"order": "top-k first", "boundary": "keep", "temperature_on": "logits", "stable": True}

# The named mistakes of sampling, as the knob of :func:`law` each one turns.
KNOBS = {
    "top-p-drops-boundary": {"boundary": "drop"},
    "top-k-after-top-p": {"order": "top-p first"},
    "temperature-after-softmax": {"temperature_on": "probabilities"},
    "unstable-softmax": {"stable": False},
    "top-k-exactly-k": {"ties": "drop"},
    "filters-before-temperature": {"filters_on": "untempered"},
}


@dataclass
class Law:
    probs: np.ndarray                            # (V,) exact probabilities; NaN where a softmax overflowed
    why: dict = field(default_factory=dict)      # token -> why it may not be drawn

    @property
    def finite(self) -> bool:
        return bool(np.all(np.isfinite(self.probs)))


def _softmax(z, stable: bool):
    """Softmax of a vector whose -inf entries are excluded tokens."""
    with np.errstate(all="ignore"):
        if stable:
            e = np.exp(z - np.max(z))
        else:
            e = np.exp(z)                                        # overflows past 709
        return e / e.sum()


def law(logits, temperature=1.0, top_k=None, top_p=None, *, order="top-k first", boundary="keep",
        temperature_on="logits", stable=True, ties="keep", filters_on="tempered") -> Law:
    """The exact distribution of ``sample_token`` (with a mistake's knob turned, if asked).

    ``order``: "top-k first" (right) or "top-p first"; ``boundary``: "keep" the token
    that crosses top_p (right) or "drop" it; ``temperature_on``: "logits" (right)
    or "probabilities" (which renormalisation cancels); ``stable``: subtract the
    maximum before exp (right) or not; ``ties``: top-k "keep"s the tokens tied with the
    k-th (right) or "drop"s them, keeping exactly k (argsort); ``filters_on``: top-k and
    top-p choose from the "tempered" logits (right) or the "untempered" ones.
    """
    x = np.asarray(logits, dtype=np.float64)
    V = x.size
    if temperature == 0:
        best = int(np.argmax(x))
        probs = np.zeros(V)
        probs[best] = 1.0
        reason = (f"temperature=0 is greedy: only the argmax, token {best}, may be drawn "
                  f"(ties go to the lowest index)")
        return Law(probs, {t: reason for t in range(V) if t != best})
    z = x / temperature if temperature_on == "logits" else x.copy()
    chosen_from = z if filters_on == "tempered" else x.copy()     # what the filters look at
    allowed = np.ones(V, dtype=bool)
    why: dict = {}
    steps = [("k", top_k), ("p", top_p)]
    if order != "top-k first":
        steps.reverse()
    done_k = False
    for kind, value in steps:
        if value is None:
            continue
        if kind == "k":
            _top_k(chosen_from, allowed, int(value), why, ties)
            done_k = True
        else:
            _top_p(chosen_from, allowed, float(value), boundary, stable, why, after_k=done_k)
    return Law(_softmax(np.where(allowed, z, -np.inf), stable), why)


def _top_k(z, allowed, k, why, ties="keep"):
    kept = np.sort(z[allowed])[::-1]
    kth = kept[min(k, kept.size) - 1]
    if ties == "drop":                                   # exactly k: the first k by a stable argsort
        first = np.argsort(-np.where(allowed, z, -np.inf), kind="stable")[:k]
        exact = np.zeros_like(allowed)
        exact[first] = True
        for t in np.flatnonzero(allowed & ~exact):
            why[int(t)] = f"top_k={k}: not among the first {k} of a sort"
        allowed &= exact
        return
    for t in np.flatnonzero(allowed & (z < kth)):
        why[int(t)] = (f"top_k={k}: its scaled logit {z[t]:.6g} is below the {k}-th largest, "
                       f"{kth:.6g} (ties with the k-th are kept)")
    allowed &= z >= kth


def _top_p(z, allowed, p, boundary, stable, why, after_k):
    probs = _softmax(np.where(allowed, z, -np.inf), stable)
    order = np.argsort(-probs, kind="stable")
    sorted_probs = probs[order]
    cum = np.cumsum(sorted_probs)
    before = cum - sorted_probs
    keep_sorted = before < p if boundary == "keep" else cum <= p
    keep = np.zeros_like(allowed)
    keep[order[keep_sorted]] = True
    where = " left after top-k" if after_k else ""
    for rank, t in enumerate(order):
        if allowed[t] and not keep[t]:
            why[int(t)] = (f"top_p={p}: the tokens ranked above it already hold {before[rank]:.4f} "
                           f"of the probability{where}, which reaches top_p")
    allowed &= keep


def top_p_margin(logits, temperature, top_k, top_p) -> float:
    """How far the nearest cumulative probability is from top_p, in both filter orders."""
    if top_p is None or temperature == 0:
        return np.inf
    z = np.asarray(logits, dtype=np.float64) / temperature
    gaps = []
    for after_k in (True, False):
        allowed = np.ones(z.size, dtype=bool)
        if after_k and top_k is not None:
            _top_k(z, allowed, top_k, {})
        probs = _softmax(np.where(allowed, z, -np.inf), True)
        cum = np.cumsum(np.sort(probs)[::-1])
        gaps.append(np.min(np.abs(cum - top_p)))
    return float(min(gaps))
