"""The positional reference agrees with independent computations on the judge's cases.

Sinusoids: a direct double loop over positions and pairs with ``math.sin``/``math.cos``.
RoPE: each pair ``(x[i], x[i + d/2])`` as the complex number ``x1 + i*x2``, turned by
``exp(i*theta)`` (torch's ``polar`` builds the rotation); no cos/sin bookkeeping shared
with the reference.

Properties (hypothesis): RoPE is a rotation of each pair (x[i], x[i + d/2]): it
preserves the norm of every pair and of the whole vector, and the dot product of a
rotated query and key depends only on the distance between their positions. The
sinusoidal encoding moves by a fixed rotation per pair when the position moves by a
fixed offset.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

torch = pytest.importorskip("torch")

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402

REF = bank.reference_module("positional")
CASES = build(bank.load_problem("positional"), secret="oracle")
MISTAKES = bank.reference_module("positional", "mistakes")


def loop_sinusoids(seq_len, d_model):
    pe = np.zeros((seq_len, d_model))
    for p in range(seq_len):
        for i in range(d_model // 2):
            angle = p / 10000 ** (2 * i / d_model)
            pe[p, 2 * i] = math.sin(angle)
            pe[p, 2 * i + 1] = math.cos(angle)
    return pe


def complex_rope(x, positions, base=10000.0):
    x = torch.from_numpy(np.asarray(x, np.float64))
    d = x.shape[-1]
    half = d // 2
    theta = torch.tensor([[int(p) * base ** (-2 * i / d) for i in range(half)] for p in positions],
                         dtype=torch.float64)                                      # (L, d/2)
    turn = torch.polar(torch.ones_like(theta), theta)                              # exp(i*theta)
    z = torch.complex(x[..., :half], x[..., half:]) * turn
    return torch.cat([z.real, z.imag], dim=-1).numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_reference_matches_oracle(case):
    if case.fn == "sinusoidal_encoding":
        got = REF.sinusoidal_encoding(**case.args)
        np.testing.assert_allclose(got, loop_sinusoids(**case.args), rtol=0, atol=1e-12)
    else:
        args = dict(case.args, x=np.asarray(case.args["x"], np.float64))
        got = REF.apply_rope(**args)
        assert got.shape == args["x"].shape
        np.testing.assert_allclose(got, complex_rope(**args), rtol=1e-10, atol=1e-10)


def test_cases_cover_the_brief():
    rope = [c for c in CASES if c.fn == "apply_rope"]
    assert any(int(c.args["positions"][0]) > 0 and (np.diff(c.args["positions"]) == 1).all() for c in rope)
    assert any(c.args["x"].shape[-2] % 2 == 1 and c.args["x"].shape[-2] > 1 for c in rope)
    assert any(c.args["x"].ndim >= 4 for c in rope)
    assert any(c.args.get("base", 10000.0) != 10000.0 for c in rope)
    assert any(c.dtype == "float32" for c in rope)


# -- properties ------------------------------------------------------------------------------

finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
halves = st.integers(1, 16)                                   # d = 2 * half
bases = st.sampled_from([10000.0, 500.0, 500000.0, 2.0])
position = st.integers(0, 5000)


@st.composite
def rope_inputs(draw):
    half = draw(halves)
    L = draw(st.integers(1, 6))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    x = draw(arrays(np.float64, (*lead, L, 2 * half), elements=finite))
    positions = np.array(draw(st.lists(position, min_size=L, max_size=L)), dtype=np.int64)
    return x, positions, draw(bases)


@settings(max_examples=200, deadline=None)
@given(rope_inputs())
def test_rope_preserves_the_norm_of_each_pair_and_vector(inputs):
    x, positions, base = inputs
    out = REF.apply_rope(x, positions, base)
    assert out.shape == x.shape
    h = x.shape[-1] // 2
    pair_in = np.hypot(x[..., :h], x[..., h:])
    pair_out = np.hypot(out[..., :h], out[..., h:])
    np.testing.assert_allclose(pair_out, pair_in, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(half=halves, base=bases, m=position, n=position, shift=st.integers(-5000, 5000), data=st.data())
def test_rope_dot_product_depends_only_on_the_distance(half, base, m, n, shift, data):
    m, n = m + max(0, -shift), n + max(0, -shift)             # keep shifted positions >= 0
    q = data.draw(arrays(np.float64, (1, 2 * half), elements=finite))
    k = data.draw(arrays(np.float64, (1, 2 * half), elements=finite))

    def dot(pq, pk):
        rq = REF.apply_rope(q, np.array([pq]), base)
        rk = REF.apply_rope(k, np.array([pk]), base)
        return float(rq[0] @ rk[0])

    tol = 1e-9 * (1 + np.linalg.norm(q) * np.linalg.norm(k))
    assert abs(dot(m, n) - dot(m + shift, n + shift)) <= tol
    # in particular it equals the key left in place and the query turned by m - n
    if m >= n:
        assert abs(dot(m, n) - dot(m - n, 0)) <= tol


@settings(max_examples=100, deadline=None)
@given(rope_inputs())
def test_rope_at_position_zero_is_the_identity(inputs):
    x, positions, base = inputs
    np.testing.assert_array_equal(REF.apply_rope(x, np.zeros_like(positions), base), x)


@settings(max_examples=100, deadline=None)
@given(seq_len=st.integers(1, 300), half=st.integers(1, 64), p=st.integers(0, 299), k=st.integers(0, 299))
def test_sinusoids_shift_by_a_rotation(seq_len, half, p, k):
    d = 2 * half
    p, k = p % seq_len, k % seq_len
    pe = REF.sinusoidal_encoding(seq_len, d)
    assert pe.shape == (seq_len, d)
    assert (np.abs(pe) <= 1).all()
    np.testing.assert_array_equal(pe[0], np.tile([0.0, 1.0], half))
    if p + k < seq_len:
        w = 10000.0 ** (-np.arange(0, d, 2) / d)
        sin_p, cos_p = pe[p, 0::2], pe[p, 1::2]
        # (sin, cos)(p + k) = (sin, cos)(p) turned by k * w: angle addition
        np.testing.assert_allclose(pe[p + k, 0::2], sin_p * np.cos(k * w) + cos_p * np.sin(k * w), atol=1e-9)
        np.testing.assert_allclose(pe[p + k, 1::2], cos_p * np.cos(k * w) - sin_p * np.sin(k * w), atol=1e-9)


def test_properties_tell_the_pairings_apart():
    """The pair-norm property is specific: the interleaved layout breaks it for the
    rotate-half pairs (while keeping the whole vector's norm)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 8))
    positions = np.array([3, 7, 11])
    wrong = MISTAKES.rope(x, positions, interleaved=True)
    h = 4
    assert not np.allclose(np.hypot(wrong[:, :h], wrong[:, h:]), np.hypot(x[:, :h], x[:, h:]))
    np.testing.assert_allclose(np.linalg.norm(wrong, axis=-1), np.linalg.norm(x, axis=-1))


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
ORACLE = {"sinusoidal_encoding": loop_sinusoids, "apply_rope": complex_rope}
