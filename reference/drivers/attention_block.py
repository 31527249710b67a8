"""attention-block: exact where the block is deterministic, statistics where it is not.

``layer_norm`` cases, eval-mode cases and training with ``dropout_p = 0`` are
compared exactly with the reference (the ``tensors`` generator or ``block`` with
``rng: none`` / ``rng: one``). Where dropout could act (``rng: many``), the block
is called once per independently seeded generator (a ``repeat`` program) and
``check_moments`` compares the N outputs with the block's exact mean and
variance, which :func:`moments` computes in closed form:

- eval mode (``training=False``), or ``dropout_p = 0``: the variance is zero, and
  every call must equal the eval output at the case's tolerance (dropout must not
  act, whatever generator it is handed);
- training with ``dropout_p > 0``: the mean over the calls must match the eval
  output within ``stats.Z`` observed standard errors (inverted dropout is
  unbiased), and the total spread must match the exact one (``stats.spread_test``),
  which catches a wrong drop rate or a missing ``1/(1-p)``.

The exact moments. With ``A`` the attention weights (B, H, L, L) and
``u[b, h, k] = v[b, h, k] @ W_o[h*d_k:(h+1)*d_k]`` what key ``k`` of head ``h``
adds to the output, the block's output is ``x + D2 * r`` with
``r = sum_{h,k} A * D1 * u``, where ``D1``, ``D2`` are independent masks whose
entries are ``s`` with probability ``1 - p`` and 0 otherwise (``s = 1/(1-p)``).
With ``m1 = E[D] = (1-p) s`` and ``m2 = E[D^2] = (1-p) s^2``:
``E[r] = m1 * A u``, ``Var r = (m2 - m1^2) * A^2 u^2`` (sums over h and k), and
``E[out] = x + m1 E[r]``, ``Var out = m2 (Var r + E[r]^2) - (m1 E[r])^2``. The
mistakes are the same formulas with a knob turned (``ddof``, ``rescale``,
``eval_dropout``), so ``match_mistake_exact`` runs the same check against them.
reference/oracles/attention_block.py checks these moments against Monte Carlo runs of the
reference and of each mistake.

Generator ``block`` params: ``B``, ``L``, ``E``, ``H``, ``dropout_p``, ``training``,
``rng`` (``none``, ``one`` or ``many``), ``draws`` (calls for ``many``; with ``power: f``
at least as many as :func:`draws_for_power` asks for a drop rate ``f * dropout_p`` to be
caught), ``scale``
of the weights (default ``1/sqrt(E)``), ``seed`` (fixed, for sample cases). A
list value is cycled over the count.
"""

from __future__ import annotations

import math

import numpy as np

from mhajudge.author import Outcome
from mhajudge_reference.shared import stats
from mhajudge_reference.sdpa import masked_softmax


def _layer_norm(x, gamma, beta, eps=1e-5, ddof=0):
    mean = x.mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=-1, keepdims=True, ddof=ddof) + eps) * gamma + beta


def moments(x, params, num_heads, dropout_p=0.0, training=False, *, ddof=0, rescale=True,
            eval_dropout=False):
    """Exact per-element mean and variance of the block's output over the dropout masks."""
    x = np.asarray(x, dtype=np.float64)
    P = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    B, L, E = x.shape
    H = num_heads
    d_k = E // H
    h = _layer_norm(x, P["ln_gamma"], P["ln_beta"], ddof=ddof)                     # (B, L, E)
    q, k, v = ((h @ P[w]).reshape(B, L, H, d_k).transpose(0, 2, 1, 3) for w in ("W_q", "W_k", "W_v"))
    A = masked_softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(d_k))               # (B, H, L, L)
    u = np.einsum("bhkd,hde->bhke", v, P["W_o"].reshape(H, d_k, E))               # (B, H, L, E)
    rho = np.einsum("bhqk,bhke->bqe", A, u)                                        # the eval result
    if not (dropout_p > 0 and (training or eval_dropout)):
        return x + rho, np.zeros_like(x)
    keep = 1.0 - dropout_p
    s = 1.0 / keep if rescale else 1.0
    m1, m2 = keep * s, keep * s * s                                                # E[D], E[D^2]
    mean_r = m1 * rho
    var_r = (m2 - m1 * m1) * np.einsum("bhqk,bhke->bqe", A * A, u * u)
    return x + m1 * mean_r, m2 * (var_r + mean_r ** 2) - (m1 * mean_r) ** 2


def case_moments(case, **knobs):
    a = case.args
    return moments(a["x"], a["params"], a["num_heads"], a.get("dropout_p", 0.0), a.get("training", False),
                   **knobs)


# -- generator -------------------------------------------------------------------------

def _pick(params, name, index, default=None):
    value = params.get(name, default)
    return value[index % len(value)] if isinstance(value, list) else value


def block(rng, params, dtype, index):
    if "seed" in params:
        rng = np.random.default_rng(_pick(params, "seed", index))
    B, L, E, H = (int(_pick(params, n, index)) for n in ("B", "L", "E", "H"))
    dt = np.float32 if dtype == "float32" else np.float64
    scale = float(_pick(params, "scale", index, 1 / math.sqrt(E)))
    x = rng.standard_normal((B, L, E)).astype(dt)
    weights = {w: (rng.standard_normal((E, E)) * scale).astype(dt) for w in ("W_q", "W_k", "W_v", "W_o")}
    weights["ln_gamma"] = (1.0 + 0.3 * rng.standard_normal(E)).astype(dt)
    weights["ln_beta"] = (0.3 * rng.standard_normal(E)).astype(dt)
    args = {"x": x, "params": weights, "num_heads": H,
            "dropout_p": float(_pick(params, "dropout_p", index, 0.0)),
            "training": bool(_pick(params, "training", index, False))}
    mode = _pick(params, "rng", index, "none")
    if mode == "none":
        return {"args": args}
    draws = int(_pick(params, "draws", index, 1000))
    if "power" in params and mode == "many":
        draws = max(draws, draws_for_power(rng, args, float(params["power"])))
    seeds = [int(s) for s in rng.integers(0, 2**63, size=draws)]
    if mode == "one":
        return {"args": {**args, "rng": {"$rng": seeds[0]}}}
    return {"args": args, "program": "repeat", "vary": [{"rng": {"$rng": s}} for s in seeds],
            "check": "moments", "expected": [], "meta": {"seeds": seeds}}


PILOT = 400      # calls of the distorted block that estimate the spread of its T statistic
Z_POWER = 12.0   # the distorted block's expected z: Z + 5 standard deviations (missed < 3e-7)


def draws_for_power(rng, args, factor: float) -> int:
    """Calls enough for a block that drops with probability ``factor * dropout_p`` (and rescales
    by its own ``1/(1 - factor * p)``, so its mean is right) to fail the spread test all but
    surely: its expected z, ``sqrt(N) (S' - S) / sd(T')``, is ``Z_POWER``. ``S``, ``S'`` are the
    exact total variances (:func:`moments`); ``sd(T')`` comes from a pilot run of the reference
    at the distorted rate (seeded from the case)."""
    from mhajudge_reference.attention_block import attention_block

    a = args
    p = a["dropout_p"]
    _, var = moments(a["x"], a["params"], a["num_heads"], p, True)
    _, var_d = moments(a["x"], a["params"], a["num_heads"], factor * p, True)
    ys = np.stack([attention_block(a["x"], a["params"], a["num_heads"], factor * p, True,
                                   np.random.default_rng(int(s)))
                   for s in rng.integers(0, 2**63, size=PILOT)]).reshape(PILOT, -1).astype(np.float64)
    t = np.sum((ys - ys.mean(axis=0)) ** 2, axis=1) * PILOT / (PILOT - 1)
    gap = abs(float(var_d.sum() - var.sum()))
    need = (Z_POWER * float(t.std(ddof=1)) / gap) ** 2 if gap > 0 else math.inf
    return int(math.ceil(need / 500) * 500)


GENERATORS = {"block": block}


# -- the check ---------------------------------------------------------------------------

def _index(idx) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def check_moments(case, answer, knobs: dict | None = None) -> Outcome:
    """Every call equal to the eval output, or the mean and spread of the calls right."""
    mu, var = case_moments(case, **(knobs or {}))
    y = np.asarray(answer["output"])
    n = len(case.meta["seeds"])
    if y.shape != (n,) + mu.shape:
        return Outcome(False, None, f"output: wrong shape: got {y.shape[1:]}, expected {mu.shape}")
    if y.dtype.kind != "f":
        return Outcome(False, None, f"output: has dtype {y.dtype}; expected floating point numbers")
    y = y.astype(np.float64)
    if not np.all(np.isfinite(y)):
        bad = np.argwhere(~np.isfinite(y))[0]
        return Outcome(False, None, f"output: NaN or inf in call {bad[0]} at {_index(bad[1:])}")
    atol, rtol = case.tolerance["atol"], case.tolerance["rtol"]
    if not np.any(var > 0):
        err = np.abs(y - mu)
        excess = err - (atol + rtol * np.abs(mu))
        if np.all(excess <= 0):
            return Outcome(True, float(err.max()))
        call, *where = np.unravel_index(int(np.argmax(excess)), excess.shape)
        off = f"by {err[(call, *where)]:.3g} at {_index(where)}"
        if np.max(np.ptp(y, axis=0)) <= atol:  # the same wrong output from every generator
            return Outcome(False, float(err.max()), f"output: differs from the expected output {off} "
                                                    f"(the same in all {n} calls)")
        why = ("with training=False dropout must not act, whatever generator is passed"
               if not case.args.get("training") else "with dropout_p=0 dropout changes nothing")
        return Outcome(False, float(err.max()),
                       f"output: changes with the generator: call {call} of {n} differs from the "
                       f"expected output {off}; {why}")
    mean = stats.mean_test(y, mu, atol, rtol)
    if not mean.ok:
        return Outcome(False, mean.deviation,
                       f"output: the mean over {n} generators is off the eval output by {mean.deviation:.3g} "
                       f"at {_index(mean.index)}, {mean.z:.1f} standard errors (allowed {stats.Z:g}): the expected "
                       f"output in training must equal the eval output (inverted dropout is unbiased)")
    spread = stats.spread_test(y, var)
    if not spread.ok:
        ratio = spread.observed / spread.expected
        return Outcome(False, None,
                       f"output: the outputs over {n} generators vary {ratio:.2f} times as much as they "
                       f"should (total variance {spread.observed:.4g}, expected {spread.expected:.4g}, "
                       f"z = {spread.z:.1f}): check the drop probability and the 1/(1-p) scale")
    return Outcome(True, mean.deviation)


CHECKS = {"moments": check_moments}


def match_mistake_exact(case, answer, mistake) -> bool:
    """Do the outputs pass this case's check against the mistake's exact moments?"""
    knobs = getattr(mistake, "keywords", None)
    if not knobs:
        return False
    return check_moments(case, answer, knobs).ok


def mistake_exception(case, mistake) -> str | None:
    """The mistakes do the reference's arithmetic with one knob turned: on valid inputs they raise nothing."""
    return None
