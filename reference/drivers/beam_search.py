"""beam-search: the step function is the judge's small model, built from plain arrays.

Each case hands ``beam_search`` a ``step`` answered by the trusted child from the
arrays of a tiny recurrent language model (``mhajudge.author.model``, the kind
``recurrent`` of ``mhajudge/sandbox/models.py``; the case's process holds neither
the arrays nor the counts, see ``mhajudge/sandbox/serving.py``): its
log-probabilities depend on the whole prefix, so a search that mixes up its
hypotheses' histories is caught. The reference runs on the same model, built in
the judge.

The check (``beam``) compares the sequences exactly and the scores at the case's
tolerance, then reads how the search used the model (the answer's ``$model_rows``
leaf): extending each live hypothesis once per step asks for at most
``1 + (max_len - 1) * beam_width`` prefixes in all; a search that rescores whole
sequences from scratch at every step asks for about ``max_len / 2`` times more.
Past twice the bound the case fails, saying so.

Generator params (``search``): ``vocab``, ``dim`` (the model's width), ``beam_width``,
``max_len``, ``scale`` (of the logits), ``eos_bias`` (added to eos's logit: large
ends hypotheses early, very negative never), ``separates`` (mistake ids the case
must expose: their answer differs from the reference's), ``seed`` (fixed, for
samples). Models are redrawn until no two competing scores lie within ``MARGIN``
(at every step's cut and in the final ranking), so float rounding never decides.
"""

from __future__ import annotations

import numpy as np

from mhajudge.author import ROWS_LEAF, CALLS_LEAF, Outcome, SpecError, check_answer, model
from mhajudge.sandbox.models import build

MARGIN = 1e-6
TRIES = 500
SLACK = 2          # rows allowed, as a multiple of what extending each live hypothesis once needs


def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) and name != "separates" else value


def margin(step, bos, eos, beam_width, max_len) -> float:
    """The smallest gap between two scores whose order the search decides (the reference's search)."""
    live, finished, gap = [([bos], 0.0)], [], np.inf
    for _ in range(max_len):
        if not live:
            break
        total = np.array([s for _, s in live])[:, None] + step([t for t, _ in live])
        flat = np.sort(total, axis=None)[::-1]
        cut = flat[:beam_width + 1]
        if cut.size > 1:
            gap = min(gap, float(np.min(cut[:-1] - cut[1:])))
        V = total.shape[1]
        nxt = []
        for f in np.argsort(-total, axis=None)[:beam_width]:
            p, t = divmod(int(f), V)
            (finished if t == eos else nxt).append((live[p][0] + [t], float(total[p, t])))
        live = nxt
    scores = np.sort([s for _, s in finished + live])[::-1][:beam_width + 1]
    if scores.size > 1:
        gap = min(gap, float(np.min(scores[:-1] - scores[1:])))
    return gap


def _model_arrays(rng, V, D, scale, eos, eos_bias):
    bias = scale * rng.standard_normal(V)
    bias[eos] += eos_bias
    return dict(embed=rng.standard_normal((V, D)), W_h=0.8 * rng.standard_normal((D, D)) / np.sqrt(D),
                W_out=scale * rng.standard_normal((D, V)) / np.sqrt(D), bias=bias)


def _differs(fn, marker, args, expected) -> bool:
    try:
        seqs, scores = fn(build(marker), *args)
    except Exception:  # noqa: BLE001 - a mistake that crashes here differs
        return True
    got = np.asarray(scores, dtype=np.float64)
    if len(seqs) != len(expected[0]) or got.shape != np.shape(expected[1]):
        return True
    return any(list(a) != list(b) for a, b in zip(seqs, expected[0])) or \
        not np.allclose(got, expected[1], rtol=1e-5, atol=1e-6)


def search(rng, params, dtype, index):
    from mhajudge_reference.beam_search import beam_search
    from mhajudge_reference.mistakes.beam_search import MISTAKES

    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    V = int(_pick(params, "vocab", index, 6))
    D = int(_pick(params, "dim", index, 4))
    k = int(_pick(params, "beam_width", index, 2))
    n = int(_pick(params, "max_len", index, 4))
    scale = float(_pick(params, "scale", index, 1.5))
    eos_bias = float(_pick(params, "eos_bias", index, 0.0))
    for _ in range(TRIES):
        bos, eos = (int(t) for t in rng.choice(V, size=2, replace=False))
        marker = model("recurrent", **_model_arrays(rng, V, D, scale, eos, eos_bias))
        args = (bos, eos, k, n)
        if margin(build(marker), *args) < MARGIN:
            continue
        expected = beam_search(build(marker), *args)
        if all(any(_differs(f, marker, args, expected) for f in MISTAKES[m]["beam_search"])
               for m in params.get("separates", []) or []):
            break
    else:
        raise SpecError(f"beam-search: no model met the case's conditions in {TRIES} draws ({params})")
    budget = SLACK * (1 + (n - 1) * k)
    return {"args": {"step": marker, "bos": bos, "eos": eos, "beam_width": k, "max_len": n},
            "check": "beam", "meta": {"rows_budget": budget, "needed": 1 + (n - 1) * k}}


GENERATORS = {"search": search}


def _answer(answer) -> dict:
    return {k: v for k, v in answer.items() if k in ("sequences", "scores")}


def check_beam(case, answer) -> Outcome:
    tol = case.tolerance
    outcome = check_answer(_answer(answer), [_answer(e) for e in case.expected], tol["atol"], tol["rtol"])
    if not outcome.ok:
        return outcome
    rows, calls = int(answer.get(ROWS_LEAF, 0)), int(answer.get(CALLS_LEAF, 0))
    budget = case.meta["rows_budget"]
    if rows > budget:
        a = case.args
        return Outcome(False, outcome.max_abs_error,
                       f"the answer is right, but the search asked step() for {rows} prefixes in {calls} calls; "
                       f"extending each live hypothesis once per step needs at most {case.meta['needed']} "
                       f"(beam_width={a['beam_width']}, max_len={a['max_len']}): it rescores whole sequences "
                       "from scratch at every step. Keep each hypothesis' running score and ask step() only "
                       "for the next token's log-probabilities of the live ones.")
    return outcome


CHECKS = {"beam": check_beam}


def match_mistake(case, answer, mistake_answer) -> bool:
    tol = case.tolerance
    return check_answer(_answer(answer), [_answer(mistake_answer)], tol["atol"], tol["rtol"]).ok
