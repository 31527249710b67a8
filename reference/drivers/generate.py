"""generate: greedy decoding of a random one-layer decoder, and how its time grows.

``decode`` draws a model (``params``) and a prompt; the expected tokens are the
reference's. Models are redrawn until, at every generated position, the largest
logit leads the second by at least ``MARGIN`` (computed here by full recomputation,
without a cache, another way than the reference), so float rounding never picks
the token; ``separates`` names mistakes whose tokens must differ from the right ones;
``embed_scale`` shrinks the embeddings (a variance near eps makes eps matter) and
``scale`` sharpens the attention (scores in the hundreds overflow an unstable softmax).

``scaling`` is one case of several generations of growing length ``T`` (a ``steps``
program, one call per length, each timed in the child as the least of ``ROUNDS``
rounds: ``$step_times``). Its check (``scaling``) first compares every generation's
tokens, then fits the exponent of time against ``T`` by least squares, for the
candidate and for the reference timed the same way (``time_steps``) at the moment of
the check, as ``run --perf`` does. A loop that recomputes the whole prefix at every
step does ``O(t)`` work per token, so its time grows one power faster than a cached
loop's (``T^3`` instead of ``T^2`` where attention dominates; at these sizes fixed
costs bend both curves alike). The case fails only when the candidate's exponent
exceeds the reference's by more than ``EXCESS`` *and* its time at the longest
length is ``RATIO`` times the reference's: a busy machine slows both, measured
side by side, and a slow but cached loop grows like the reference.
"""

from __future__ import annotations

import numpy as np

from mhajudge.author import TIMES_LEAF, Outcome, SpecError, check_answer, step_leaf, time_steps

MARGIN = 1e-4
TRIES = 200
ROUNDS = 3
EXCESS = 0.45
RATIO = 3.0


def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) and name not in ("separates", "lengths") else value


def model(rng, V, E, max_positions, scale, embed_scale=1.0):
    r = lambda *shape, s=1.0: s * rng.standard_normal(shape)  # noqa: E731
    return {"embed": r(V, E, s=embed_scale), "pos": r(max_positions, E, s=0.7 * embed_scale),
            "W_q": r(E, E, s=scale / np.sqrt(E)), "W_k": r(E, E, s=scale / np.sqrt(E)),
            "W_v": r(E, E, s=1 / np.sqrt(E)), "W_o": r(E, E, s=1 / np.sqrt(E)),
            "ln1_gamma": 1 + r(E, s=0.1), "ln1_beta": r(E, s=0.1),
            "lnf_gamma": 1 + r(E, s=0.1), "lnf_beta": r(E, s=0.1), "lm_head": r(E, V, s=2 / np.sqrt(E))}


def _ln(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * g + b


def full_logits(tokens, p, H):
    """The logits of the last position, recomputed over the whole sequence (no cache)."""
    x = p["embed"][tokens] + p["pos"][:len(tokens)]                     # (L, E)
    h = _ln(x, p["ln1_gamma"], p["ln1_beta"])
    L, E = x.shape
    d = E // H
    q, k, v = (np.stack(np.split(h @ p[w], H, axis=1)) for w in ("W_q", "W_k", "W_v"))  # (H, L, d)
    s = np.einsum("hid,hjd->hij", q, k) / np.sqrt(d)
    s = s + np.triu(np.full((L, L), -np.inf), 1)
    w = np.exp(s - s.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    attn = np.concatenate(list(np.einsum("hij,hjd->hid", w, v)), axis=1)  # (L, E)
    x = x + attn @ p["W_o"]
    return _ln(x[-1], p["lnf_gamma"], p["lnf_beta"]) @ p["lm_head"]


def greedy_margin(prompt, p, H, n) -> tuple[list[int], float]:
    """Greedy tokens by full recomputation, and the smallest lead of the chosen logit."""
    seq, gap = [int(t) for t in prompt], np.inf
    for _ in range(n):
        z = full_logits(seq, p, H)
        top = np.sort(z)[-2:]
        gap = min(gap, float(top[1] - top[0]))
        seq.append(int(np.argmax(z)))
    return seq[len(prompt):], gap


def _draw(rng, params, index, n_max):
    V = int(_pick(params, "vocab", index, 16))
    E = int(_pick(params, "E", index, 8))
    H = int(_pick(params, "H", index, 2))
    P = int(_pick(params, "P", index, 3))
    scale = float(_pick(params, "scale", index, 1.0))
    p = model(rng, V, E, int(_pick(params, "max_positions", index, P + n_max + 4)), scale,
              float(_pick(params, "embed_scale", index, 1.0)))
    prompt = rng.integers(0, V, size=P).astype(np.int64)
    return p, prompt, H


def _separated(prompt, p, H, n, tokens, separates) -> bool:
    from mhajudge_reference.mistakes.generate import MISTAKES

    for m in separates:
        for fn in MISTAKES[m]["generate"]:
            if np.array_equal(fn(prompt, p, H, n), tokens):
                return False
    return True


def decode(rng, params, dtype, index):
    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    n = int(_pick(params, "T", index, 6))
    for _ in range(TRIES):
        p, prompt, H = _draw(rng, params, index, n)
        tokens, gap = greedy_margin(prompt, p, H, n)
        if gap >= MARGIN and _separated(prompt, p, H, n, np.array(tokens), params.get("separates", []) or []):
            break
    else:
        raise SpecError(f"generate: no model met the case's conditions in {TRIES} draws ({params})")
    return {"prompt": prompt, "params": p, "num_heads": H, "max_new_tokens": n}


def scaling(rng, params, dtype, index):
    """One model; generations of each length in ``lengths``, timed."""
    lengths = [int(t) for t in params["lengths"]]
    for _ in range(TRIES):
        p, prompt, H = _draw(rng, params, index, max(lengths))
        if greedy_margin(prompt, p, H, max(lengths))[1] >= MARGIN:  # the longest holds the others
            break
    else:
        raise SpecError(f"generate: no model met the case's conditions in {TRIES} draws ({params})")
    steps = [{"args": [prompt, p, H, T], "kwargs": {}} for T in lengths]
    return {"args": {"prompt": prompt, "params": p, "num_heads": H, "max_new_tokens": lengths[0]},
            "program": "steps", "steps": steps, "times": ROUNDS, "check": "scaling",
            "meta": {"lengths": lengths}}


GENERATORS = {"decode": decode, "scaling": scaling}


def fit_exponent(sizes, times) -> float:
    x, y = np.log(np.asarray(sizes, float)), np.log(np.maximum(np.asarray(times, float), 1e-9))
    return float(np.polyfit(x, y, 1)[0])


def _tokens_only(answer, steps: int) -> dict:
    return {step_leaf(k, "tokens"): answer[step_leaf(k, "tokens")] for k in range(steps)
            if step_leaf(k, "tokens") in answer}


def figures(case, times):
    """(candidate's exponent, reference's exponent, time ratio at the longest length, the
    reference's times), the reference timed now, as the candidate was, for the same lengths."""
    from mhajudge.cases import materialize
    from mhajudge_reference.generate import generate

    lengths = case.meta["lengths"]
    reference = time_steps(generate, materialize(case.inputs), [], ROUNDS)
    return (fit_exponent(lengths, times), fit_exponent(lengths, reference),
            float(times[-1] / max(reference[-1], 1e-9)), reference)


def check_scaling(case, answer) -> Outcome:
    lengths = case.meta["lengths"]
    tol = case.tolerance
    outcome = check_answer(_tokens_only(answer, len(lengths)), case.expected, tol["atol"], tol["rtol"])
    if not outcome.ok:
        return outcome
    times = np.asarray(answer.get(TIMES_LEAF, []), dtype=np.float64).reshape(-1)
    if times.size != len(lengths) or not np.all(np.isfinite(times)) or np.any(times < 0):
        return Outcome(False, None, "the judge's timings of the generations did not come back")
    mine, ref, ratio, reference = figures(case, times)
    shown = ", ".join(f"T={T}: {t * 1e3:.1f} ms (reference {r * 1e3:.1f} ms)"
                      for T, t, r in zip(lengths, times, reference))
    if mine > ref + EXCESS and ratio > RATIO:
        return Outcome(False, 0.0,
                       f"the tokens are right, but the time grows like T^{mine:.1f} against the reference's "
                       f"T^{ref:.1f} measured alongside ({ratio:.0f}x slower at T={lengths[-1]}): the loop "
                       "recomputes the whole prefix at every step. Prefill the prompt once, then feed only the "
                       "new token, appending its key and value to a cache.", details=shown)
    return outcome


CHECKS = {"scaling": check_scaling}


def match_mistake(case, answer, mistake_answer) -> bool:
    """On the timed case: the same tokens as the mistake's, at every length."""
    steps = len(case.meta["lengths"])
    return check_answer(_tokens_only(answer, steps), [_tokens_only(mistake_answer, steps)], 0.0, 0.0).ok
