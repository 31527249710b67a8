"""rope-kv-cache is judged by driving the step function, as kv-cache is.

One generator, ``decode``: a sequence of ``T`` new tokens is fed one at a time at
absolute positions ``start, start + 1, ...``; each step gets back the cache the
candidate's previous step returned (a ``steps`` program). When ``t > 0`` the
first step is handed a cache the judge built: the rotated keys and the values of
``t`` earlier tokens at positions ``start - t .. start - 1``, so a cache that
starts at a position other than 0 (``start > t``) shows whether the step rotates
at ``position`` or at the cache length. Every ``out_t`` is compared with the
reference and every returned cache with the rotated keys and the values of the
tokens so far; reference/oracles/rope_kv_cache.py checks those answers against a
full recomputation of RoPE attention over the whole sequence, without a cache.

Generator params (a list value is cycled over the count): ``B``, ``E``, ``H``,
``T`` (tokens fed), ``t`` (length of the judge's cache, default 0: the first step
gets ``None``), ``start`` (position of the first new token, default ``t``),
``base`` (passed as a keyword only when given, so the default is exercised),
``scale`` (of the weights, default ``1/sqrt(E)``), ``seed`` (a fixed seed, for
sample cases).
"""

import numpy as np

from mhajudge.author import Outcome, check_answer, step_leaf
from mhajudge_reference.drivers.kv_cache import _check_one, _entries, _pick
from mhajudge_reference.rope_kv_cache import apply_rope

WEIGHTS = ("W_q", "W_k", "W_v", "W_o")


def judge_cache(x_prev, positions, W_k, W_v, H, base):
    """The cache a correct decoder holds after ``x_prev (B, t, E)``: rotated keys, plain values."""
    B, t, E = x_prev.shape
    split = lambda a: a.reshape(B, t, H, E // H).transpose(0, 2, 1, 3)  # noqa: E731
    K = apply_rope(split(x_prev @ W_k), positions, base)                 # (B, H, t, d_k)
    V = split(x_prev @ W_v)                                              # (B, H, t, d_k)
    return K.astype(x_prev.dtype), V.astype(x_prev.dtype)


def decode(rng, params, dtype, index):
    B, E, H, T = (_pick(params, n, index) for n in ("B", "E", "H", "T"))
    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    t = _pick(params, "t", index, 0)
    start = _pick(params, "start", index, t)
    base = _pick(params, "base", index)
    scale = _pick(params, "scale", index, 1 / np.sqrt(E))
    dt = np.float32 if dtype == "float32" else np.float64
    weights = {w: (rng.standard_normal((E, E)) * scale).astype(dt) for w in WEIGHTS}
    x_prev = rng.standard_normal((B, t, E)).astype(dt)
    x = rng.standard_normal((B, T, E)).astype(dt)
    cache = (judge_cache(x_prev, np.arange(start - t, start), weights["W_k"], weights["W_v"], H,
                         10000.0 if base is None else base) if t else None)
    kwargs = {} if base is None else {"base": base}
    W = [weights[w] for w in WEIGHTS]
    steps = [{"args": [np.ascontiguousarray(x[:, s:s + 1]), start + s, cache if s == 0 else {"$prev": 1}, *W, H],
              "kwargs": kwargs} for s in range(T)]
    return {"args": {"x_t": x[:, :1].copy(), "position": start, "cache": cache, **weights, "num_heads": H,
                     **kwargs},
            "program": "steps", "steps": steps, "check": "decode",
            "meta": {"x": x, "x_prev": x_prev, "start": start, "base": 10000.0 if base is None else base}}


GENERATORS = {"decode": decode}


def check_decode(case, answer):
    """The first step that goes wrong, explained (out_t, then each cache)."""
    want = case.expected[0]
    tol = {"atol": case.tolerance["atol"], "rtol": case.tolerance["rtol"]}
    steps = case.inputs["steps"]
    errors = []
    for s, step in enumerate(steps):
        problems, errs = _check_one(answer, want, step_leaf(s, ""), tol)
        errors += errs
        if problems:
            if _caches_unrotated(answer[step_leaf(s, "K_cache")], step, tol):
                problems.append("the key it appended is the projected key before rotation: cache the key "
                                "rotated at its position, and never rotate cached keys again")
            t = case.meta["x_prev"].shape[1] + s
            given = ("no cache" if t == 0 else f"a cache of {_entries(t)}"
                     + (" built by the judge" if s == 0 else " from step " + str(s - 1)))
            fine = f" Steps 0 to {s - 1} were right." if s > 1 else " Step 0 was right." if s == 1 else ""
            return Outcome(False, max(errors) if errors else None,
                           f"step {s} (token {s + 1} of {len(steps)}, at position {step['args'][1]}, "
                           f"{given}): " + "; ".join(problems) + "." + fine)
    return Outcome(True, max(errors) if errors else 0.0)


def _caches_unrotated(K_got, step, tol):
    """Is the newest cached key the projected key of the step's token, unrotated (position > 0)?"""
    x_t, position, _, _, W_k, _, _, H = step["args"]
    B, _, E = x_t.shape
    raw = (x_t @ W_k).reshape(B, 1, H, E // H).transpose(0, 2, 1, 3)[:, :, 0]        # (B, H, d_k)
    if position == 0 or K_got.ndim != 4 or K_got.shape[2] == 0 or K_got.shape[:2] + K_got.shape[3:] != raw.shape:
        return False
    return bool(np.allclose(K_got[:, :, -1], raw, atol=tol["atol"], rtol=tol["rtol"]))


CHECKS = {"decode": check_decode}


def match_mistake(case, answer, mistake_answer):
    """Every leaf (each step's output and cache) equals the mistake's at the case's tolerance."""
    return check_answer(answer, [mistake_answer], case.tolerance["atol"], case.tolerance["rtol"]).ok
