"""generate: greedy decoding of a random one-layer decoder, and how its time grows.

``decode`` draws a model (``params``) and a prompt; the expected tokens are the
reference's. Models are redrawn until, at every generated position, the largest
logit leads the second by at least ``MARGIN`` (computed here by full recomputation,
without a cache, another way than the reference), so float rounding never picks
the token; ``separates`` names mistakes whose tokens must differ from the right ones;
``embed_scale`` shrinks the embeddings (a variance near eps makes eps matter) and
``scale`` sharpens the attention (scores in the hundreds overflow an unstable softmax).

``scaling`` is one case of ``ROUNDS`` rounds of generations of growing length ``T``
(a timed ``steps`` program: one call per length per round, each with a prompt of its
own). The trusted child hands the calls over one at a time and times each
(``$step_times``, ``mhajudge/sandbox/serving.py``): as every call is new and
checked, a memo of earlier answers, work done ahead or put off, or a forged reply
cannot make a slow loop look fast. The check (``scaling``) first compares every
generation's tokens, then fits the exponent of time against ``T`` by least squares
(the least time of each length over the rounds), for the candidate and for the
reference timed the same way (``time_steps``) at the moment of the check, as ``run
--perf`` does. A loop that recomputes the whole prefix at every
step does ``O(t)`` work per token, so its time grows one power faster than a cached
loop's (``T^3`` instead of ``T^2`` where attention dominates; at these sizes fixed
costs bend both curves alike). The case fails when the candidate's exponent
exceeds the reference's by more than ``EXCESS`` *and* its time at the longest
length is ``RATIO`` times the reference's (a busy machine slows both, measured
side by side, and a slow but cached loop grows like the reference), or, whatever
the curve, when its time at the longest length is ``RATIO_ALONE`` times the
reference's: a curve can be flattened on purpose by slowing the short calls, but
the longest call cannot be made faster than the work it does.
"""

from __future__ import annotations

import numpy as np

from mhajudge.author import TIMES_LEAF, Outcome, SpecError, check_answer, step_leaf, time_steps

MARGIN = 1e-4
TRIES = 200
ROUNDS = 4
EXCESS = 0.45
RATIO = 3.0
RATIO_ALONE = 12.0   # at the longest length, whatever the curve's shape (see check_scaling)
FULL_UP_TO = 192     # the longest generation vetted by full recomputation


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


def cached_margin(prompt, p, H, n) -> float:
    """The smallest lead of the chosen logit over a greedy generation, computed with a
    cache of every position's normed input (a third way, quick enough to vet the timed
    case's many prompts; ``greedy_margin`` vets the model on the longest one)."""
    seq, gap = [int(t) for t in prompt], np.inf
    E = p["embed"].shape[1]
    d = E // H
    heads = lambda a: a.reshape(len(a), H, d).transpose(1, 0, 2)   # noqa: E731  (H, L, d)
    x = p["embed"][seq] + p["pos"][:len(seq)]                        # (L, E): the residual stream
    h = _ln(x, p["ln1_gamma"], p["ln1_beta"])
    K, V = heads(h @ p["W_k"]), heads(h @ p["W_v"])                  # (H, L, d)
    for _ in range(n):
        q = heads(h[-1:] @ p["W_q"])                                 # (H, 1, d)
        s = q @ K.transpose(0, 2, 1) / np.sqrt(d)                    # (H, 1, L)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        out = x[-1] + (w @ V).transpose(1, 0, 2).reshape(E) @ p["W_o"]
        z = _ln(out, p["lnf_gamma"], p["lnf_beta"]) @ p["lm_head"]
        top = np.sort(z)[-2:]
        gap = min(gap, float(top[1] - top[0]))
        seq.append(int(np.argmax(z)))
        x_new = p["embed"][seq[-1]] + p["pos"][len(seq) - 1]
        x = np.vstack([x, x_new])
        h_new = _ln(x_new[None], p["ln1_gamma"], p["ln1_beta"])
        h = np.vstack([h, h_new])
        K = np.concatenate([K, heads(h_new @ p["W_k"])], axis=1)
        V = np.concatenate([V, heads(h_new @ p["W_v"])], axis=1)
    return gap


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
    """One model; ``ROUNDS`` rounds of a generation of each length in ``lengths``, every
    one from a prompt of its own, handed over and timed one at a time by the child."""
    lengths = [int(t) for t in params["lengths"]]
    for _ in range(TRIES):
        p, prompt, H = _draw(rng, params, index, max(lengths))
        # the model, by full recomputation (O(T^3): up to 192 tokens; the prompts below go further)
        if greedy_margin(prompt, p, H, min(max(lengths), FULL_UP_TO))[1] >= MARGIN:
            break
    else:
        raise SpecError(f"generate: no model met the case's conditions in {TRIES} draws ({params})")
    V, P = p["embed"].shape[0], len(prompt)
    steps = []
    for _ in range(ROUNDS):
        for T in lengths:
            for _ in range(TRIES):
                prompt = rng.integers(0, V, size=P).astype(np.int64)
                if cached_margin(prompt, p, H, T) >= MARGIN:
                    break
            else:
                raise SpecError(f"generate: no prompt of length {P} met the margin in {TRIES} draws ({params})")
            steps.append({"args": [prompt, p, H, T], "kwargs": {}})
    return {"args": {"prompt": steps[0]["args"][0], "params": p, "num_heads": H, "max_new_tokens": lengths[0]},
            "program": "steps", "steps": steps, "times": True, "check": "scaling",
            "meta": {"lengths": lengths, "rounds": ROUNDS}}


GENERATORS = {"decode": decode, "scaling": scaling}


def fit_exponent(sizes, times) -> float:
    x, y = np.log(np.asarray(sizes, float)), np.log(np.maximum(np.asarray(times, float), 1e-9))
    return float(np.polyfit(x, y, 1)[0])


def _tokens_only(answer, steps: int) -> dict:
    return {step_leaf(k, "tokens"): answer[step_leaf(k, "tokens")] for k in range(steps)
            if step_leaf(k, "tokens") in answer}


def _steps(case) -> int:
    return case.meta["rounds"] * len(case.meta["lengths"])


def least(times, case) -> np.ndarray:
    """The least time of each length over the rounds (steps run round by round)."""
    return np.asarray(times, dtype=np.float64).reshape(case.meta["rounds"], len(case.meta["lengths"])).min(0)


def figures(case, times):
    """(candidate's exponent, reference's exponent, time ratio at the longest length, the
    reference's times per length), the reference timed now on the same calls (the least
    CPU time of each over a few repeats: the judge's own process, trusted), the least of
    each length over the rounds for both. The candidate's are wall clock, measured by
    the child from outside, which a busy machine inflates: that can only raise its
    ratio, and, being much the same at every length, hardly moves its exponent."""
    from mhajudge.cases import materialize
    from mhajudge_reference.generate import generate

    lengths = case.meta["lengths"]
    mine, reference = least(times, case), least(time_steps(generate, materialize(case.inputs)), case)
    return (fit_exponent(lengths, mine), fit_exponent(lengths, reference),
            float(mine[-1] / max(reference[-1], 1e-9)), reference)


def check_scaling(case, answer) -> Outcome:
    lengths = case.meta["lengths"]
    tol = case.tolerance
    outcome = check_answer(_tokens_only(answer, _steps(case)), case.expected, tol["atol"], tol["rtol"])
    if not outcome.ok:
        return outcome
    times = np.asarray(answer.get(TIMES_LEAF, []), dtype=np.float64).reshape(-1)
    if times.size != _steps(case) or not np.all(np.isfinite(times)) or np.any(times < 0):
        return Outcome(False, None, "the judge's timings of the generations did not come back")
    mine, ref, ratio, reference = figures(case, times)
    shown = ", ".join(f"T={T}: {t * 1e3:.1f} ms (reference {r * 1e3:.1f} ms)"
                      for T, t, r in zip(lengths, least(times, case), reference))
    fix = ("Prefill the prompt once, then feed only the new token, appending its key and value to a cache.")
    if mine > ref + EXCESS and ratio > RATIO:
        return Outcome(False, 0.0,
                       f"the tokens are right, but the time grows like T^{mine:.1f} against the reference's "
                       f"T^{ref:.1f} measured alongside ({ratio:.0f}x slower at T={lengths[-1]}): the loop "
                       f"recomputes the whole prefix at every step. {fix}", details=shown)
    # A curve can be flattened on purpose (slow short calls), never the longest call made fast:
    # at T=384 a loop with a cache takes 1-2x the reference's time (2.8x on the torch track, where
    # every op costs its dispatch), one that recomputes the prefix 39-48x (benchmarks/generate_scaling.py).
    if ratio > RATIO_ALONE:
        return Outcome(False, 0.0,
                       f"the tokens are right, but a generation of T={lengths[-1]} tokens takes {ratio:.0f}x the "
                       f"reference's time measured alongside (a loop with a KV cache takes a few times at most): "
                       f"each step does far more work than one new token needs. {fix}", details=shown)
    return outcome


CHECKS = {"scaling": check_scaling}


def match_mistake(case, answer, mistake_answer) -> bool:
    """On the timed case: the same tokens as the mistake's, in every generation."""
    return check_answer(_tokens_only(answer, _steps(case)), [_tokens_only(mistake_answer, _steps(case))], 0.0, 0.0).ok
