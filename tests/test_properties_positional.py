"""Properties of the positional reference, checked with hypothesis.

RoPE is a rotation of each pair (x[i], x[i + d/2]): it preserves the norm of every
pair and of the whole vector, and the dot product of a rotated query and key
depends only on the distance between their positions. The sinusoidal encoding
moves by a fixed rotation per pair when the position moves by a fixed offset.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mhajudge import bank

REF = bank.reference_module("positional")
MISTAKES = bank.reference_module("positional", "mistakes")

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
