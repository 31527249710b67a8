"""kv-cache is judged by driving the step function, not by one call.

- ``decode``: a sequence is fed one token at a time; each step gets back the cache
  the candidate's previous step returned (a ``steps`` program). Every ``out_t`` is
  compared with the reference (row t of causal attention over the prefix, which
  reference/oracles/kv_cache.py checks against PyTorch) and every returned cache
  with the projected keys and values of the tokens so far.
- ``continued``: the same, but the first step is handed a cache the judge built.
- ``handed``: one call with a cache of random keys and values built by the judge,
  so a step that ignores its cache (or rebuilds one from inputs it stashed in a
  global) fails.

Generator params: ``B``, ``E``, ``H``, ``T`` (tokens fed), ``t`` (length of a handed
cache), ``scale`` (of the weights, default ``1/sqrt(E)``: unsaturated attention),
``seed`` (a fixed seed, for sample cases). A list value is cycled over the count.
"""

import numpy as np

from mhajudge.author import Outcome, check_answer, compare_leaf, step_leaf
from mhajudge_reference.kv_cache import attention_step

CACHE = ("K_cache", "V_cache")


def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) else value


def _setup(rng, params, dtype, index):
    B, E, H = (_pick(params, n, index) for n in ("B", "E", "H"))
    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    scale = _pick(params, "scale", index, 1 / np.sqrt(E))
    dt = np.float32 if dtype == "float32" else np.float64
    weights = {w: (rng.standard_normal((E, E)) * scale).astype(dt) for w in ("W_q", "W_k", "W_v", "W_o")}
    return rng, dt, B, E, H, weights


def _random_cache(rng, dt, B, H, t, d_k):
    return tuple(rng.standard_normal((B, H, t, d_k)).astype(dt) for _ in CACHE)


def _steps(x, first_cache, weights, H):
    T = x.shape[1]
    W = [weights[w] for w in ("W_q", "W_k", "W_v", "W_o")]
    return [{"args": [np.ascontiguousarray(x[:, s:s + 1]), first_cache if s == 0 else {"$prev": 1}, *W, H]}
            for s in range(T)]


def decode(rng, params, dtype, index):
    rng, dt, B, E, H, weights = _setup(rng, params, dtype, index)
    T = _pick(params, "T", index)
    x = rng.standard_normal((B, T, E)).astype(dt)
    return {"args": {"x_t": x[:, :1].copy(), "cache": None, **weights, "num_heads": H},
            "program": "steps", "steps": _steps(x, None, weights, H), "check": "decode",
            "meta": {"x": x, "first_cache": None}}


def continued(rng, params, dtype, index):
    rng, dt, B, E, H, weights = _setup(rng, params, dtype, index)
    T, t = _pick(params, "T", index), _pick(params, "t", index)
    cache = _random_cache(rng, dt, B, H, t, E // H)
    x = rng.standard_normal((B, T, E)).astype(dt)
    return {"args": {"x_t": x[:, :1].copy(), "cache": cache, **weights, "num_heads": H},
            "program": "steps", "steps": _steps(x, cache, weights, H), "check": "decode",
            "meta": {"x": x, "first_cache": cache}}


def handed(rng, params, dtype, index):
    rng, dt, B, E, H, weights = _setup(rng, params, dtype, index)
    cache = _random_cache(rng, dt, B, H, _pick(params, "t", index), E // H)
    x_t = rng.standard_normal((B, 1, E)).astype(dt)
    return {"args": {"x_t": x_t, "cache": cache, **weights, "num_heads": H}, "check": "handed"}


GENERATORS = {"decode": decode, "continued": continued, "handed": handed}


# -- checks ------------------------------------------------------------------

def _entries(n):
    return f"{n} entry" if n == 1 else f"{n} entries"


def _check_cache(name, got, want, tol):
    """The returned cache: its shape, the old entries kept, the new one appended last.

    The message says ``{name}`` where the cache's name goes, so that the same
    problem in K_cache and V_cache is said once.
    """
    t = want.shape[2] - 1
    if got.shape != want.shape:
        if got.ndim == 4 and got.shape[:2] + got.shape[3:] == want.shape[:2] + want.shape[3:]:
            held = got.shape[2]
            hint = (" (the cache it was given, unchanged)" if held == t and t > 0
                    else " (only the new token's)" if held == 1 and t > 0 else "")
            given = f"the {_entries(t)} it was given, then " if t else ""
            return Outcome(False, None, f"the returned {{name}} holds {_entries(held)} along the time "
                                        f"axis (axis 2){hint}; expected {t + 1}: {given}the new token's, "
                                        f"appended last")
        return Outcome(False, None, f"the returned {{name}} has shape {got.shape}; expected "
                                    f"{want.shape}, i.e. (B, num_heads, t + 1, d_k)")
    if t > 0:
        old = compare_leaf(f"{name}[:, :, :{t}]", got[:, :, :t], want[:, :, :t], **tol)
        if not old.ok:
            return Outcome(False, old.max_abs_error, f"the entries that were already cached changed: "
                                                     f"{old.message}")
    new = compare_leaf(f"{name}[:, :, {t}]", got[:, :, t], want[:, :, t], **tol)
    if not new.ok:
        return Outcome(False, new.max_abs_error, f"the new token's entry, appended last, is wrong: "
                                                 f"{new.message}")
    whole = compare_leaf(name, got, want, **tol)
    return Outcome(whole.ok, whole.max_abs_error, whole.message)


def _check_one(answer, want, prefix, tol, alone=None):
    """out_t and the cache of one call: (problems, errors).

    ``alone`` is what out_t would be had the step attended to the new token alone.
    """
    problems, errors = [], []
    got = answer[prefix + "out_t"]
    o = compare_leaf("out_t", got, want[prefix + "out_t"], **tol)
    if not o.ok:
        msg = o.message
        if alone is not None and got.shape == alone.shape and compare_leaf("out_t", got, alone, **tol).ok:
            msg += (" (it equals attention over the new token alone: attend over the cache it was "
                    "handed plus the new token, and use nothing remembered from earlier calls)")
        problems.append(msg)
    cache = [_check_cache(name, answer[prefix + name], want[prefix + name], tol) for name in CACHE]
    if not cache[0].ok and cache[0].message == cache[1].message:
        problems.append(cache[0].message.format(name=" and ".join(CACHE)).replace(" holds ", " hold ")
                        .replace(" has shape ", " have shape "))
    else:
        problems += [c.message.format(name=name) for c, name in zip(cache, CACHE) if not c.ok]
    errors = [x.max_abs_error for x in [o, *cache] if x.max_abs_error is not None]
    return problems, errors


def check_decode(case, answer):
    """A step sequence: the first step that goes wrong, explained."""
    want = case.expected[0]
    tol = {"atol": case.tolerance["atol"], "rtol": case.tolerance["rtol"]}
    steps = len(case.inputs["steps"])
    errors = []
    for s in range(steps):
        problems, errs = _check_one(answer, want, step_leaf(s, ""), tol)
        errors += errs
        if problems:
            fine = f" Steps 0 to {s - 1} were right." if s > 1 else " Step 0 was right." if s == 1 else ""
            return Outcome(False, max(errors) if errors else None,
                           f"step {s} (token {s + 1} of {steps}): " + "; ".join(problems) + "." + fine)
    return Outcome(True, max(errors) if errors else 0.0)


def check_handed(case, answer):
    """One call with a cache the judge built from random keys and values."""
    want = case.expected[0]
    tol = {"atol": case.tolerance["atol"], "rtol": case.tolerance["rtol"]}
    a = case.args
    alone, _ = attention_step(a["x_t"], None, a["W_q"], a["W_k"], a["W_v"], a["W_o"], a["num_heads"])
    t = a["cache"][0].shape[2]
    problems, errors = _check_one(answer, want, "", tol, alone=np.asarray(alone))
    if problems:
        return Outcome(False, max(errors) if errors else None,
                       f"with a cache of {_entries(t)} built by the judge: " + "; ".join(problems))
    return Outcome(True, max(errors) if errors else 0.0)


CHECKS = {"decode": check_decode, "handed": check_handed}


def match_mistake(case, answer, mistake_answer):
    """Every leaf (each step's output and cache) equals the mistake's at the case's tolerance."""
    return check_answer(answer, [mistake_answer], case.tolerance["atol"], case.tolerance["rtol"]).ok
