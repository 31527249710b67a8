"""attention-block: the exact mean and variance of the block in training mode.

Against PyTorch's dropout and layer_norm (many replicas at once), and against the
reference's own draws (what the judge compares with) and the mistakes' draws.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from mhajudge import bank  # noqa: E402

stats = bank.reference_module("stats", "shared")
block = bank.reference_module("attention_block", "drivers")
block_ref = bank.reference_module("attention_block")
block_mistakes = bank.reference_module("attention_block", "mistakes")


def _block_args(seed, B=2, L=4, E=8, H=2):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, L, E))
    params = {w: rng.standard_normal((E, E)) / math.sqrt(E) for w in ("W_q", "W_k", "W_v", "W_o")}
    params["ln_gamma"] = 1 + 0.3 * rng.standard_normal(E)
    params["ln_beta"] = 0.3 * rng.standard_normal(E)
    return x, params, H


def torch_block(x, params, H, p, training, n, *, ddof=0, rescale=True):
    """n independent forward passes at once (x replicated along the batch), with torch's dropout."""
    torch.manual_seed(1234)
    X = torch.tensor(x).repeat(n, 1, 1)                                 # (n*B, L, E)
    P = {k: torch.tensor(v) for k, v in params.items()}
    NB, L, E = X.shape
    d = E // H
    if ddof == 0:
        h = torch.nn.functional.layer_norm(X, (E,), P["ln_gamma"], P["ln_beta"], eps=1e-5)
    else:
        c = X - X.mean(-1, keepdim=True)
        h = c / torch.sqrt(X.var(-1, keepdim=True, unbiased=True) + 1e-5) * P["ln_gamma"] + P["ln_beta"]
    q, k, v = ((h @ P[w]).reshape(NB, L, H, d).transpose(1, 2) for w in ("W_q", "W_k", "W_v"))
    scale = 1.0 if rescale else 1.0 - p
    a = torch.nn.functional.dropout(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1), p, training) * scale
    out = (a @ v).transpose(1, 2).reshape(NB, L, E) @ P["W_o"]
    out = torch.nn.functional.dropout(out, p, training) * scale
    return (X + out).reshape(n, *x.shape).numpy()


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("knobs", [{}, {"ddof": 1}, {"rescale": False}])
def test_block_moments_match_torch_monte_carlo(p, knobs):
    x, params, H = _block_args(int(p * 10))
    n = 100_000
    y = torch_block(x, params, H, p, True, n, **knobs)
    mu, var = block.moments(x, params, H, p, True, **knobs)
    se = np.sqrt(var / n)
    assert np.all(np.abs(y.mean(0) - mu) <= 5 * se + 1e-12)
    np.testing.assert_allclose(y.var(0), var, rtol=0.06)
    assert y.var(0).sum() == pytest.approx(var.sum(), rel=0.01)


def test_block_moments_in_eval_are_the_reference_output():
    x, params, H = _block_args(3)
    for knobs, training in (({}, False), ({"eval_dropout": False}, False)):
        mu, var = block.moments(x, params, H, 0.3, training, **knobs)
        np.testing.assert_allclose(mu, block_ref.attention_block(x, params, H), rtol=1e-12, atol=1e-12)
        assert not var.any()
    mu_eval, var_eval = block.moments(x, params, H, 0.3, False, eval_dropout=True)
    mu_train, var_train = block.moments(x, params, H, 0.3, True)
    np.testing.assert_allclose(mu_eval, mu_train)
    np.testing.assert_allclose(var_eval, var_train)
    np.testing.assert_allclose(torch_block(x, params, H, 0.0, False, 1)[0], mu_eval, rtol=1e-12, atol=1e-12)


def test_reference_block_draws_have_the_exact_moments():
    """The reference's own dropout (what the judge compares with) has these moments."""
    x, params, H = _block_args(5, B=1, L=3, E=4, H=2)
    p, n = 0.25, 20_000
    y = np.stack([block_ref.attention_block(x, params, H, p, True, np.random.default_rng(s)) for s in range(n)])
    mu, var = block.moments(x, params, H, p, True)
    assert stats.mean_test(y, mu, 0.0, 0.0, z=5).ok
    np.testing.assert_allclose(y.var(0), var, rtol=0.08)
    for name, fns in block_mistakes.MISTAKES.items():
        fn = fns["attention_block"]
        training = name != "dropout-in-eval"
        ym = np.stack([fn(x, params, H, p, training, np.random.default_rng(s)) for s in range(4000)])
        mu_m, var_m = block.moments(x, params, H, p, training, **fn.keywords)
        assert var_m.any()
        assert stats.mean_test(ym, mu_m, 0.0, 0.0, z=5).ok, name
        assert stats.spread_test(ym, var_m, z=5).ok, name


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
def _oracle_layer_norm(x, gamma, beta, eps=1e-5):
    X = torch.tensor(np.asarray(x, np.float64))
    g, b = (torch.tensor(np.asarray(a, np.float64)) for a in (gamma, beta))
    return torch.nn.functional.layer_norm(X, (X.shape[-1],), g, b, eps=eps).numpy()


def _oracle_block(x, params, num_heads, dropout_p=0.0, training=False, rng=None):
    """torch's layer_norm, softmax and dropout; the dropout masks drawn by torch, seeded from ``rng``
    (a draw of the same law as the reference's, not the same draw)."""
    B, L, E = x.shape
    if E % num_heads:
        raise ValueError("E is not divisible by num_heads")
    X = torch.tensor(np.asarray(x, np.float64))
    P = {k: torch.tensor(np.asarray(v, np.float64)) for k, v in params.items()}
    d = E // num_heads
    seed = int(rng.integers(2**62)) if training and dropout_p > 0 else 0
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        h = torch.nn.functional.layer_norm(X, (E,), P["ln_gamma"], P["ln_beta"], eps=1e-5)
        q, k, v = ((h @ P[w]).reshape(B, L, num_heads, d).transpose(1, 2) for w in ("W_q", "W_k", "W_v"))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1)                   # (B, H, L, L)
        a = torch.nn.functional.dropout(a, dropout_p, bool(training))
        out = (a @ v).transpose(1, 2).reshape(B, L, E) @ P["W_o"]
        out = torch.nn.functional.dropout(out, dropout_p, bool(training))
    return (X + out).numpy()


ORACLE = {"layer_norm": _oracle_layer_norm, "attention_block": _oracle_block}
