"""Properties of the softmax and multi-head attention references, checked with hypothesis.

- softmax: unchanged by a constant shift of each slice, non-negative, every slice sums
  to 1, also for logits of magnitude 1e4 and on any axis;
- attention: every row of weights sums to 1 (0 when every key is masked), masked
  keys get exactly 0;
- permutation equivariance over the sequence: permuting the queries permutes the
  outputs, permuting the keys and values together leaves them unchanged (for
  self-attention, permuting the sequence permutes the output);
- consistency between problems: mha-batched is mha-qkv's multi_head_attention per
  batch item, mha-masked is mha-projected on a batch of one, and one head of
  mha-qkv's multi_head_attention is its self_attention.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from mhajudge import bank

SOFTMAX = bank.reference_module("softmax").softmax
QKV = bank.reference_module("mha_qkv")
BATCHED = bank.reference_module("mha_batched").multi_head_attention
PROJECTED = bank.reference_module("mha_projected").multi_head_attention
MASKED = bank.reference_module("mha_masked").multi_head_attention

SETTINGS = settings(max_examples=60, deadline=None)
CLOSE = dict(rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- softmax

@st.composite
def logits(draw, bound=1e4):
    """An array of any small shape with entries up to ``bound`` in magnitude, and an axis."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
    x = draw(arrays(np.float64, shape, elements=st.floats(-bound, bound, allow_nan=False)))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return x, axis


@SETTINGS
@given(logits(), st.data())
def test_softmax_shift_invariance(x_axis, data):
    x, axis = x_axis
    shape = list(x.shape)
    shape[axis] = 1                                            # one constant per slice
    c = data.draw(arrays(np.float64, tuple(shape), elements=st.floats(-1e5, 1e5, allow_nan=False)))
    np.testing.assert_allclose(SOFTMAX(x + c, axis), SOFTMAX(x, axis), rtol=1e-7, atol=1e-9)


@SETTINGS
@given(logits(), st.sampled_from([1e-3, 1.0, 1e2]))
def test_softmax_is_a_distribution(x_axis, scale):
    x, axis = x_axis
    x = x * scale                                              # up to 1e6 in magnitude
    p = SOFTMAX(x, axis)
    assert p.shape == x.shape
    assert np.isfinite(p).all() and (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)
    # the largest logit of each slice gets the largest probability
    top = np.expand_dims(np.argmax(x, axis=axis), axis)
    np.testing.assert_array_equal(np.take_along_axis(p, top, axis=axis), p.max(axis=axis, keepdims=True))


@SETTINGS
@given(logits(), st.data())
def test_softmax_minus_inf_gets_zero(x_axis, data):
    x, axis = x_axis
    blocked = data.draw(arrays(bool, x.shape))
    keep = np.expand_dims(np.argmax(x, axis=axis), axis)      # every slice keeps one finite logit
    np.put_along_axis(blocked, keep, False, axis=axis)
    x = np.where(blocked, -np.inf, x)
    p = SOFTMAX(x, axis)
    assert (p[blocked] == 0).all()
    np.testing.assert_allclose(p.sum(axis=axis), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- attention

@st.composite
def mha_case(draw, cross=True, masked=False):
    """Random inputs of mha-projected; ``scale`` up to 30 gives scores in the hundreds."""
    B, Lq, H, d_k = (draw(st.integers(1, n)) for n in (3, 6, 4, 4))
    Lk = draw(st.integers(1, 6)) if cross else Lq
    E = H * d_k
    scale = draw(st.sampled_from([0.1, 1.0, 30.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    args = dict(query=rng.standard_normal((B, Lq, E)) * scale,
                key=rng.standard_normal((B, Lk, E)) * scale,
                value=rng.standard_normal((B, Lk, E)),
                **{w: rng.standard_normal((E, E)) / np.sqrt(E) for w in ("W_q", "W_k", "W_v", "W_o")},
                num_heads=H)
    if masked:
        args["mask"] = rng.random((B, 1, Lq, Lk)) < draw(st.sampled_from([0.3, 0.7, 1.0]))
    return args


@SETTINGS
@given(mha_case())
def test_attention_rows_sum_to_one(args):
    out, weights = PROJECTED(**args)
    assert np.isfinite(out).all() and (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)


@SETTINGS
@given(mha_case(masked=True))
def test_masked_attention_rows(args):
    out, weights = PROJECTED(**args)
    keep = np.broadcast_to(args["mask"], weights.shape)
    assert np.isfinite(out).all()
    assert (weights[~keep] == 0).all()                        # masked keys get exactly zero
    some = keep.any(-1)
    np.testing.assert_allclose(weights.sum(-1)[some], 1.0, rtol=1e-12)
    assert (weights.sum(-1)[~some] == 0).all()                # a fully masked row: all zero


@SETTINGS
@given(mha_case(cross=False), st.data())
def test_self_attention_permutation_equivariant(args, data):
    """With query = key = value = x, permuting the sequence of x permutes the output."""
    x = args["query"]
    args = dict(args, key=x, value=x)
    perm = np.array(data.draw(st.permutations(range(x.shape[1]))))
    out, weights = PROJECTED(**args)
    p_out, p_weights = PROJECTED(**dict(args, query=x[:, perm], key=x[:, perm], value=x[:, perm]))
    np.testing.assert_allclose(p_out, out[:, perm], **CLOSE)
    np.testing.assert_allclose(p_weights, weights[:, :, perm][:, :, :, perm], **CLOSE)


@SETTINGS
@given(mha_case(masked=True), st.data())
def test_projected_query_and_key_permutations(args, data):
    Lq, Lk = args["query"].shape[1], args["key"].shape[1]
    q_perm = np.array(data.draw(st.permutations(range(Lq))))
    k_perm = np.array(data.draw(st.permutations(range(Lk))))
    out, weights = PROJECTED(**args)
    # permuting the queries (and the mask's query axis) permutes the outputs
    p_out, p_weights = PROJECTED(**dict(args, query=args["query"][:, q_perm], mask=args["mask"][:, :, q_perm]))
    np.testing.assert_allclose(p_out, out[:, q_perm], **CLOSE)
    np.testing.assert_allclose(p_weights, weights[:, :, q_perm], **CLOSE)
    # permuting keys and values together (and the mask's key axis) changes nothing
    k_out, k_weights = PROJECTED(**dict(args, key=args["key"][:, k_perm], value=args["value"][:, k_perm],
                                        mask=args["mask"][..., k_perm]))
    np.testing.assert_allclose(k_out, out, **CLOSE)
    np.testing.assert_allclose(k_weights, weights[..., k_perm], **CLOSE)


@st.composite
def unbatched(draw, heads=True):
    L, H, d_k = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if not heads:
        H = 1
    scale = draw(st.sampled_from([0.3, 1.0, 30.0]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    Q, K, V = (rng.standard_normal((L, H * d_k)) * s for s in (scale, scale, 1.0))
    return Q, K, V, H, rng


@SETTINGS
@given(unbatched(), st.data())
def test_qkv_permutations(inputs, data):
    Q, K, V, H, _ = inputs
    q_perm = np.array(data.draw(st.permutations(range(len(Q)))))
    k_perm = np.array(data.draw(st.permutations(range(len(K)))))
    for fn, extra in ((QKV.multi_head_attention, (H,)), (QKV.self_attention, ())):
        out = fn(Q, K, V, *extra)
        np.testing.assert_allclose(fn(Q[q_perm], K, V, *extra), out[q_perm], **CLOSE)
        np.testing.assert_allclose(fn(Q, K[k_perm], V[k_perm], *extra), out, **CLOSE)


@SETTINGS
@given(unbatched(), st.data())
def test_masked_permutations(inputs, data):
    Q, K, V, H, rng = inputs
    L, D = Q.shape
    W = [rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(4)]
    mask = (rng.random((L, L)) < 0.6).astype(float)
    perm = np.array(data.draw(st.permutations(range(L))))
    out = MASKED(Q, K, V, *W, H, mask)
    np.testing.assert_allclose(MASKED(Q[perm], K, V, *W, H, mask[perm]), out[perm], **CLOSE)
    np.testing.assert_allclose(MASKED(Q, K[perm], V[perm], *W, H, mask[:, perm]), out, **CLOSE)


@SETTINGS
@given(st.integers(1, 4), unbatched(), st.data())
def test_batched_is_qkv_per_item(B, inputs, data):
    _, _, _, H, rng = inputs
    L, D = inputs[0].shape
    scale = data.draw(st.sampled_from([0.3, 1.0, 30.0]))
    Q, K, V = (rng.standard_normal((B, L, D)) * s for s in (scale, scale, 1.0))
    out = BATCHED(Q, K, V, H)
    assert out.shape == (B, L, D)
    for b in range(B):
        np.testing.assert_allclose(out[b], QKV.multi_head_attention(Q[b], K[b], V[b], H), **CLOSE)
    perm = np.array(data.draw(st.permutations(range(L))))
    np.testing.assert_allclose(BATCHED(Q[:, perm], K, V, H), out[:, perm], **CLOSE)
    np.testing.assert_allclose(BATCHED(Q, K[:, perm], V[:, perm], H), out, **CLOSE)


@SETTINGS
@given(unbatched())
def test_masked_is_projected_on_a_batch_of_one(inputs):
    Q, K, V, H, rng = inputs
    L, D = Q.shape
    W = [rng.standard_normal((D, D)) / np.sqrt(D) for _ in range(4)]
    mask = (rng.random((L, L)) < 0.5).astype(float)
    out, _ = PROJECTED(Q[None], K[None], V[None], *W, H, mask)
    np.testing.assert_allclose(MASKED(Q, K, V, *W, H, mask), out[0], **CLOSE)


@SETTINGS
@given(unbatched(heads=False))
def test_one_head_is_self_attention(inputs):
    Q, K, V, _, _ = inputs
    np.testing.assert_allclose(QKV.multi_head_attention(Q, K, V, 1), QKV.self_attention(Q, K, V), **CLOSE)
