"""Torch solutions of every problem, right or with one named mistake, as source files.

``source(problem_id, mistake=None)`` is the text of a torch submission for that
problem: the shared core (attention, softmax, heads, masks written with tensor
operations) with the switches of ``WRONG`` set as :data:`TABLE` says for that
mistake, and the problem's entry points around it. The torch track's tests judge
every (problem, mistake) file through the real CLI and expect the mistake's id among
the diagnoses: the named mistakes run in the judge on the returned values, so a torch
answer is diagnosed exactly as a NumPy one.
"""

from __future__ import annotations

CORE = '''
import math

import torch

WRONG = {wrong!r}


def w(name, default):
    return WRONG.get(name, default)


def reduce(f, x, dim):
    """``f`` (amax, sum) over ``dim`` kept as size 1, or over the whole tensor when ``dim`` is None."""
    return f(x, dim, keepdim=True) if dim is not None else f(x, tuple(range(x.dim())), keepdim=True)


def softmax(s, dim=-1, keep=None):
    """Softmax over ``dim``; keys where ``keep`` is False get weight 0 (a row with none: zeros)."""
    dim = w("axis", dim)
    if keep is not None:
        if w("invert", False):
            keep = ~keep
        if w("mask", "fill") == "fill":
            s = s.masked_fill(~keep, float("-inf"))
        elif w("mask", "fill") == "add":
            s = s + torch.where(keep, 0.0, -1e9).to(s.dtype)
    if w("stable", True):
        m = reduce(torch.amax, s, dim)
        if w("guard", True):
            m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
        e = torch.exp(s - m)
    else:
        e = torch.exp(s)
    total = reduce(torch.sum, e, dim)
    if w("stable", True) and w("guard", True):
        p = torch.where(total > 0, e / torch.where(total > 0, total, torch.ones_like(total)), torch.zeros_like(e))
    else:
        p = e / total
    if keep is not None and w("mask", "fill") == "after":
        p = p * keep
    return p


def scale_of(d_k, d_model):
    how = w("scale", "d_k")
    return 1.0 if how is None else math.sqrt(d_model if how == "d_model" else d_k)


def attend(q, k, v, keep=None, d_model=None):
    """(..., Lq, d), (..., Lk, d), (..., Lk, d_v) -> ((..., Lq, d_v), (..., Lq, Lk))."""
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / scale_of(d_k, d_model or d_k)      # (..., Lq, Lk)
    weights = softmax(scores, -1, keep)
    return weights @ (v if w("values", True) else k), weights


def split(x, H):
    """(..., L, E) -> (..., H, L, d_k)."""
    *lead, L, E = x.shape
    if w("heads", "contiguous") == "strided":
        return x.reshape(*lead, L, E // H, H).movedim(-1, -3)
    return x.reshape(*lead, L, H, E // H).transpose(-3, -2)


def merge(x):
    """(..., H, L, d_k) -> (..., L, H*d_k)."""
    *lead, H, L, d_k = x.shape
    if w("heads", "contiguous") == "strided":
        return x.movedim(-3, -1).reshape(*lead, L, H * d_k)
    return x.transpose(-3, -2).reshape(*lead, L, H * d_k)


def proj(x, W, name=""):
    return x @ (W.T if name in w("transposed", ()) else W)


def out_proj(x, W_o):
    return proj(x, W_o, "W_o") if w("project", True) else x
'''

PROBLEMS = {
    "softmax": '''
def softmax_entry(x, axis=-1):
    how = w("softmax", "right")
    if how == "global-max":
        e = torch.exp(x - x.max())
        return e / e.sum(axis, keepdim=True)
    if how == "whole-array":
        e = torch.exp(x - x.max())
        return e / e.sum()
    if how == "fixed-axis":
        axis = -1
    if not w("stable", True):
        e = torch.exp(x)
        return e / e.sum(axis, keepdim=True)
    e = torch.exp(x - x.amax(axis, keepdim=True))
    return e / e.sum(axis, keepdim=True)


globals()["softmax"] = softmax_entry
''',
    "sdpa": '''
def scaled_dot_product_attention(Q, K, V, mask=None):
    keep = None if mask is None else torch.broadcast_to(mask.bool(), Q.shape[:-1] + K.shape[-2:-1])
    return attend(Q, K, V, keep)
''',
    "mha-qkv": '''
def compute_qkv(X, W_q, W_k, W_v):
    return proj(X, W_q, "W_q"), proj(X, W_k, "W_k"), proj(X, W_v, "W_v")


def self_attention(Q, K, V):
    return attend(Q, K, V)[0]


def multi_head_attention(Q, K, V, n_heads):
    d_model = Q.shape[-1]
    out, _ = attend(split(Q, n_heads), split(K, n_heads), split(V, n_heads), d_model=d_model)
    return merge(out)
''',
    "mha-batched": '''
def multi_head_attention(Q, K, V, n_heads):
    out, _ = attend(split(Q, n_heads), split(K, n_heads), split(V, n_heads), d_model=Q.shape[-1])
    return merge(out)                                                       # (B, L, d_model)
''',
    "mha-projected": '''
def multi_head_attention(query, key, value, W_q, W_k, W_v, W_o, num_heads, mask=None):
    B, Lq, E = query.shape
    if E % num_heads != 0:
        raise ValueError(f"E={E} is not divisible by num_heads={num_heads}")
    q = split(proj(query, W_q, "W_q"), num_heads)                           # (B, H, Lq, d_k)
    k = split(proj(key, W_k, "W_k"), num_heads)                             # (B, H, Lk, d_k)
    v = split(proj(value, W_v, "W_v"), num_heads)
    keep = None if mask is None else torch.broadcast_to(mask.bool(), (B, num_heads, Lq, key.shape[1]))
    out, weights = attend(q, k, v, keep, d_model=E)
    return out_proj(merge(out), W_o), weights
''',
    "mha-masked": '''
def multi_head_attention(Q, K, V, Wq, Wk, Wv, Wo, h, mask=None):
    L, d_model = Q.shape
    q, k, v = split(proj(Q, Wq, "W_q"), h), split(proj(K, Wk, "W_k"), h), split(proj(V, Wv, "W_v"), h)
    keep = None if mask is None else (mask != 0)                            # (L, L), broadcast over heads
    out, _ = attend(q, k, v, keep, d_model=d_model)                         # (h, L, d_k)
    return out_proj(merge(out), Wo)                                         # (L, d_model)
''',
    "causal-attention": '''
def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    B, L, E = x.shape
    q, k, v = (split(x @ W, num_heads) for W in (W_q, W_k, W_v))           # (B, H, L, d_k)
    ones = torch.ones(L, L, dtype=torch.bool)
    keep = {"lower": ones.tril(), "strict": ones.tril(-1), "upper": ones.triu()}[w("causal", "lower")]
    out, weights = attend(q, k, v, keep, d_model=E)
    return out_proj(merge(out), W_o), weights
''',
    "kv-cache": '''
def attention_step(x_t, cache, W_q, W_k, W_v, W_o, num_heads):
    B, _, E = x_t.shape
    q, k_new, v_new = (split(x_t @ W, num_heads) for W in (W_q, W_k, W_v))   # (B, H, 1, d_k)
    if cache is None:
        k, v = k_new, v_new
    else:
        k = torch.cat([cache[0], k_new], dim=2)                              # (B, H, t+1, d_k)
        v = torch.cat([cache[1], v_new], dim=2)
    if w("cache", "append") == "only-new":
        out, _ = attend(q, k_new, v_new, d_model=E)
    else:
        out, _ = attend(q, k, v, d_model=E)
    out_t = out_proj(merge(out), W_o)                                        # (B, 1, E)
    if w("cache", "append") == "unchanged" and cache is not None:
        return out_t, cache
    return out_t, (k, v)
''',
    "gqa": '''
def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_kv_heads < 1 or num_heads % num_kv_heads != 0:
        raise ValueError("num_heads must be a multiple of num_kv_heads")
    B, L, E = x.shape
    group = num_heads // num_kv_heads
    q = split(x @ W_q, num_heads)                                            # (B, H, L, d_k)
    k, v = split(x @ W_k, num_kv_heads), split(x @ W_v, num_kv_heads)        # (B, H_kv, L, d_k)
    if w("kv", "grouped") == "tiled":
        k, v = k.repeat(1, group, 1, 1), v.repeat(1, group, 1, 1)           # head h gets h % H_kv
    else:
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
    keep = None if mask is None else torch.broadcast_to(mask.bool(), (B, num_heads, L, L))
    out, _ = attend(q, k, v, keep, d_model=E)
    return out_proj(merge(out), W_o)
''',
    "positional": '''
def sinusoidal_encoding(seq_len, d_model):
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]               # (L, 1)
    angle = pos / 10000.0 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)   # (L, d/2)
    first, second = (torch.cos(angle), torch.sin(angle)) if w("pe", "") == "swapped" else (torch.sin(angle), torch.cos(angle))
    if w("pe", "") == "halves":
        return torch.cat([first, second], dim=-1)
    return torch.stack([first, second], dim=-1).reshape(seq_len, d_model)


def apply_rope(x, positions, base=10000.0):
    d = x.shape[-1]
    half = d // 2
    if w("rope", "") == "fixed-base":
        base = 10000.0
    if w("rope", "") == "own-positions":
        positions = torch.arange(x.shape[-2])
    inv_freq = base ** (-2.0 * torch.arange(half, dtype=torch.float64) / d)  # (d/2,)
    theta = (positions.to(torch.float64)[:, None] * inv_freq).to(x.dtype)     # (L, d/2)
    cos, sin = torch.cos(theta), torch.sin(theta)
    if w("rope", "") == "backwards":
        sin = -sin
    if w("rope", "") == "interleaved":
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).reshape(x.shape)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
''',
    "mha-backward": '''
def mha_forward_backward(x, W_q, W_k, W_v, W_o, num_heads, d_out, mask=None):
    B, L, E = x.shape
    d_k = E // num_heads
    c = 1.0 / scale_of(d_k, E)
    q, k, v = (split(x @ W, num_heads) for W in (W_q, W_k, W_v))           # (B, H, L, d_k)
    S = q @ k.transpose(-2, -1) * c                                         # (B, H, L, L)
    keep = torch.ones(S.shape, dtype=torch.bool) if mask is None else torch.broadcast_to(mask != 0, S.shape)
    A = softmax(S, -1, keep)
    ctx = merge(A @ v)                                                      # (B, L, E)
    output = ctx @ W_o
    d_ctx = split(d_out @ W_o.T, num_heads)
    dA = d_ctx @ v.transpose(-2, -1)
    dv = A.transpose(-2, -1) @ d_ctx
    if w("softmax_backward", "right") == "no-sum":
        dS = A * dA
    else:
        dS = A * (dA - (dA * A).sum(-1, keepdim=True))
    dS = torch.where(keep, dS, torch.zeros_like(dS))
    cb = c if w("backward_scale", True) else 1.0
    dq, dk, dv = merge(dS @ k * cb), merge(dS.transpose(-2, -1) @ q * cb), merge(dv)
    paths = {"q": dq @ W_q.T, "k": dk @ W_k.T, "v": dv @ W_v.T}
    spec = "blf,ble->ef" if w("transpose_dW", False) else "ble,blf->ef"
    grads = {"x": sum(paths[p] for p in w("dx_paths", "qkv")),
             "W_q": torch.einsum(spec, x, dq), "W_k": torch.einsum(spec, x, dk),
             "W_v": torch.einsum(spec, x, dv), "W_o": torch.einsum(spec, ctx, d_out)}
    return output, grads
''',
    "flash-attention": '''
def flash_attention(Q, K, V, block_size=64, causal=False):
    B, H, L, d = Q.shape
    out = torch.empty_like(Q)
    for i0 in range(0, L, block_size):
        i1 = min(i0 + block_size, L)
        q = Q[:, :, i0:i1] / scale_of(d, d)                                  # (B, H, bq, d)
        m = torch.full((B, H, i1 - i0, 1), float("-inf"), dtype=Q.dtype)
        l = torch.zeros((B, H, i1 - i0, 1), dtype=Q.dtype)
        acc = torch.zeros((B, H, i1 - i0, d), dtype=Q.dtype)
        for j0 in range(0, i1 if causal else L, block_size):
            j1 = min(j0 + block_size, L)
            s = q @ K[:, :, j0:j1].transpose(-2, -1)                         # (B, H, bq, bk)
            if causal:
                keep = torch.arange(i0, i1)[:, None] >= torch.arange(j0, j1)[None, :]
                s = s.masked_fill(~keep, float("-inf"))
            m_new = torch.maximum(m, s.amax(-1, keepdim=True))
            p = torch.exp(s - m_new)
            alpha = torch.exp(m - m_new) if w("rescale", True) else torch.ones_like(m)
            l = alpha * l + p.sum(-1, keepdim=True)
            acc = alpha * acc + p @ V[:, :, j0:j1]
            m = m_new
        out[:, :, i0:i1] = acc / l
    return out
''',
    "attention-block": '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, keepdim=True, unbiased=w("unbiased", False))
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def attention_block(x, params, num_heads, dropout_p=0.0, training=False, rng=None):
    B, L, E = x.shape
    drop = (training or w("eval_dropout", False)) and dropout_p > 0
    scale = 1.0 / (1.0 - dropout_p) if w("rescale", True) else 1.0

    def dropout(a):
        keep = torch.rand(a.shape, generator=rng, dtype=a.dtype) >= dropout_p
        return torch.where(keep, a * scale, torch.zeros_like(a))

    h = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    q, k, v = (split(h @ params[n], num_heads) for n in ("W_q", "W_k", "W_v"))
    weights = softmax(q @ k.transpose(-2, -1) / math.sqrt(E // num_heads))
    if drop:
        weights = dropout(weights)
    result = merge(weights @ v) @ params["W_o"]
    if drop:
        result = dropout(result)
    return x + result
''',
    "sampling": '''
def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0:
        raise ValueError("temperature must be >= 0")
    if top_k is not None and top_k < 1:
        raise ValueError("top_k must be >= 1")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError("top_p must be in (0, 1]")
    logits = logits.to(torch.float64)
    if temperature == 0:
        return int(torch.argmax(logits))
    z = logits if w("temperature", "logits") == "probs" else logits / temperature

    def to_probs(z):
        e = torch.exp(z - z.max()) if w("stable", True) else torch.exp(z)
        return e / e.sum()

    def top_k_keep(z, allowed):
        if w("ties", "keep") == "drop":                                     # exactly k, ties cut by a sort
            first = torch.sort(torch.where(allowed, z, float("-inf")), descending=True, stable=True).indices[:top_k]
            exact = torch.zeros_like(allowed)
            exact[first] = True
            return allowed & exact
        kept = torch.sort(z[allowed], descending=True).values
        return allowed & (z >= kept[min(top_k, kept.numel()) - 1])

    def top_p_keep(z, allowed):
        probs = to_probs(torch.where(allowed, z, float("-inf")))
        order = torch.sort(probs, descending=True, stable=True).indices
        sorted_probs = probs[order]
        cum = torch.cumsum(sorted_probs, 0)
        keep_sorted = cum < top_p if w("boundary", "kept") == "dropped" else cum - sorted_probs < top_p
        keep = torch.zeros_like(allowed)
        keep[order[keep_sorted]] = True
        return allowed & keep

    def top_k_filter(z):
        kth = torch.sort(z, descending=True).values[min(top_k, z.numel()) - 1]
        return torch.where(z >= kth, z, torch.full_like(z, float("-inf")))

    def top_p_filter(probs):
        order = torch.sort(probs, descending=True, stable=True).indices
        sorted_probs = probs[order]
        before = torch.cumsum(sorted_probs, 0) - sorted_probs
        probs = probs.clone()
        probs[order[before >= top_p]] = 0.0
        return probs / probs.sum()

    if w("order", "k-then-p") == "p-then-k":
        probs = to_probs(z)
        if top_p is not None:
            probs = top_p_filter(probs)
        if top_k is not None:
            probs = to_probs(top_k_filter(torch.log(probs)))
    else:
        chosen = logits if w("filters", "tempered") == "untempered" else z   # what top-k/top-p look at
        allowed = torch.ones(z.shape, dtype=torch.bool)
        if top_k is not None:
            allowed = top_k_keep(chosen, allowed)
        if top_p is not None:
            allowed = top_p_keep(chosen, allowed)
        probs = to_probs(torch.where(allowed, z, float("-inf")))
    if w("temperature", "logits") == "probs":                               # renormalising cancels it
        probs = probs / temperature
        probs = probs / probs.sum()
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    if not w("stable", True):  # by inverse CDF: NaN probabilities give a garbage token, not an exception
        cdf = torch.cumsum(probs, 0)
        u = torch.rand((), generator=g, dtype=torch.float64)
        return int(min(int(torch.searchsorted(cdf, u * cdf[-1], right=True)), probs.numel() - 1))
    return int(torch.multinomial(probs, 1, generator=g))
''',
    "sliding-window-attention": '''
def sliding_window_attention(x, W_q, W_k, W_v, W_o, num_heads, window):
    if window < 1:
        raise ValueError(f"window must be at least 1 (the query itself), got {window}")
    B, L, E = x.shape
    q, k, v = (split(x @ W, num_heads) for W in (W_q, W_k, W_v))           # (B, H, L, d_k)
    i, j = torch.arange(L)[:, None], torch.arange(L)[None, :]               # (L, 1), (1, L)
    keep = {"band": (j <= i) & (j > i - window),                             # window keys, itself included
            "wide": (j <= i) & (j >= i - window),
            "symmetric": (i - j).abs() < window,
            "causal": j <= i}[w("window", "band")]
    out, weights = attend(q, k, v, keep, d_model=E)                         # (B, H, L, d_k), (B, H, L, L)
    return out_proj(merge(out), W_o), weights
''',
    "cross-entropy": '''
def cross_entropy(logits, targets, ignore_index=-100):
    N, V = logits.shape                                                     # (N, V)
    keep = targets != ignore_index                                          # (N,)
    if bool(((targets < 0) | (targets >= V))[keep].any()):
        raise ValueError(f"targets must be in [0, {V}) or ignore_index={ignore_index}")
    count = int(keep.sum())
    if count == 0:
        return 0.0, torch.zeros_like(logits)
    rows, safe = torch.arange(N), torch.where(keep, targets, 0)
    if w("stable", True):
        shifted = logits - logits.amax(1, keepdim=True)                     # (N, V), row max 0
        log_probs = shifted - torch.log(torch.exp(shifted).sum(1, keepdim=True))
        probs = torch.exp(log_probs)
    else:
        e = torch.exp(logits)
        probs = e / e.sum(1, keepdim=True)
        log_probs = torch.log(probs)
    per_row = torch.where(keep, -log_probs[rows, safe], torch.zeros((), dtype=logits.dtype))
    loss = per_row.sum() / (N if w("loss_over", "kept") == "all" else count)
    d = probs.clone()
    d[rows, safe] -= 1.0
    d = d * keep[:, None] / {"kept": count, "all": N, "none": 1}[w("grad_over", "kept")]
    return float(loss), d
''',

    "norm-backward": '''
def over_leading(t):
    """``t`` summed over every axis but the last (torch's ``sum(())`` would sum them all)."""
    return t.sum(tuple(range(t.dim() - 1))) if t.dim() > 1 else t


def layer_norm_backward(x, gamma, d_out, eps=1e-5):
    D = x.shape[-1]
    ddof = 1 if w("unbiased", False) else 0
    mean = x.mean(-1, keepdim=True)                                         # (..., 1)
    var = ((x - mean) ** 2).sum(-1, keepdim=True) / (D - ddof)              # (..., 1)
    rstd = 1.0 / torch.sqrt(var + eps)
    xhat = (x - mean) * rstd                                                # (..., D)
    dbeta, dgamma = over_leading(d_out), over_leading(d_out * xhat)         # (D,), (D,)
    g = d_out * gamma                                                       # dLoss/dxhat
    if not w("mean_terms", True):
        return g * rstd, dgamma, dbeta
    dx = rstd * (g - g.mean(-1, keepdim=True) - xhat * (g * xhat).mean(-1, keepdim=True) * D / (D - ddof))
    return dx, dgamma, dbeta


def rms_parts(x, eps):
    z = x - x.mean(-1, keepdim=True) if w("center", False) else x
    ms = (z ** 2).mean(-1, keepdim=True)                                    # (..., 1)
    r = 1.0 / (torch.sqrt(ms) + eps) if w("eps_outside", False) else 1.0 / torch.sqrt(ms + eps)
    return z, ms, r


def rms_norm(x, weight, eps=1e-6):
    z, _, r = rms_parts(x, eps)
    return z * r * weight


def rms_norm_backward(x, weight, d_out, eps=1e-6):
    z, ms, r = rms_parts(x, eps)
    dweight = over_leading(d_out * z * r)                                   # (D,)
    g = d_out * weight
    if not w("rms_term", True):
        return g * r, dweight
    s = r ** 2 / torch.sqrt(ms) if w("eps_outside", False) else r ** 3     # -d r / d z_j * D / z_j
    dz = g * r - z * s * (g * z).mean(-1, keepdim=True)
    if w("center", False):
        dz = dz - dz.mean(-1, keepdim=True)
    return dz, dweight
''',
    "rope-kv-cache": '''
def rope(x, positions, base=10000.0):
    """Rotate-half RoPE over the last axis, one position per row of axis -2."""
    d = x.shape[-1]
    half = d // 2
    if w("rope", "") == "fixed-base":
        base = 10000.0
    inv_freq = base ** (-2.0 * torch.arange(half, dtype=torch.float64) / d)              # (d/2,)
    theta = (torch.tensor(positions, dtype=torch.float64)[:, None] * inv_freq).to(x.dtype)  # (L, d/2)
    cos, sin = torch.cos(theta), torch.sin(theta)
    if w("rope", "") == "backwards":
        sin = -sin
    if w("rope", "") == "interleaved":
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).reshape(x.shape)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def rope_attention_step(x_t, position, cache, W_q, W_k, W_v, W_o, num_heads, base=10000.0):
    B, _, E = x_t.shape                                                      # (B, 1, E)
    t = 0 if cache is None else cache[0].shape[2]
    p = t if w("rope_at", "position") == "t" else position
    q, k, v = (split(x_t @ W, num_heads) for W in (W_q, W_k, W_v))          # (B, H, 1, d_k)
    q = rope(q, [p], base)
    if w("cached", "rotated") == "rotated":
        k = rope(k, [p], base)
    if w("rope_values", False):
        v = rope(v, [p], base)
    if cache is not None:
        k = torch.cat([cache[0], k], dim=2)                                  # (B, H, t+1, d_k)
        v = torch.cat([cache[1], v], dim=2)
    k_att = k if w("cached", "rotated") == "rotated" else rope(k, [p] * (t + 1), base)
    if w("cache", "append") == "only-new":
        out, _ = attend(q, k_att[:, :, -1:], v[:, :, -1:], d_model=E)
    else:
        out, _ = attend(q, k_att, v, d_model=E)                              # (B, H, 1, d_k)
    return out_proj(merge(out), W_o), (k, v)
''',
    "beam-search": '''
def beam_search(step, bos, eos, beam_width, max_len):
    live, finished = [([bos], 0.0, 0.0)], []                                # tokens, log-prob sum, ranking key
    for _ in range(max_len):
        if not live:
            break
        logp = torch.as_tensor(step([list(tokens) for tokens, _, _ in live]), dtype=torch.float64)  # (n, V)
        V = logp.shape[1]
        sums = torch.tensor([lp for _, lp, _ in live], dtype=torch.float64)[:, None] + logp       # (n, V)
        if w("beam_score", "logp") == "probs":
            keys = torch.tensor([k for _, _, k in live], dtype=torch.float64)[:, None] + logp.exp()
        else:
            keys = sums
        if w("beam_pick", "global") == "per-parent":
            picks = [(parent, int(tok)) for parent in range(len(live))
                     for tok in torch.sort(keys[parent], descending=True, stable=True).indices[:beam_width]]
        else:
            flat = torch.sort(keys.reshape(-1), descending=True, stable=True).indices[:beam_width]
            picks = [divmod(int(f), V) for f in flat]
        nxt = []
        for parent, tok in picks:
            hyp = (live[parent][0] + [tok], float(sums[parent, tok]), float(keys[parent, tok]))
            (finished if tok == eos and w("beam_eos", "stop") == "stop" else nxt).append(hyp)
        live = nxt
    index = 2 if w("beam_score", "logp") == "probs" else 1
    ranked = sorted(finished + live, key=lambda h: -h[index])[:beam_width]
    return [tokens for tokens, _, _ in ranked], [h[index] for h in ranked]
''',
    "generate": '''
def layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)                          # biased
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def block(x, K_cache, V_cache, p, num_heads, inverted=False):
    """New positions x (L, E) attend to the cache and to themselves, causally."""
    h = layer_norm(x, p["ln1_gamma"], p["ln1_beta"])                        # (L, E)
    q = split(h @ p["W_q"], num_heads)                                      # (H, L, d_k)
    K = torch.cat([K_cache, split(h @ p["W_k"], num_heads)], dim=1)         # (H, t + L, d_k)
    V = torch.cat([V_cache, split(h @ p["W_v"], num_heads)], dim=1)
    L, t = x.shape[0], K_cache.shape[1]
    j, i = torch.arange(t + L)[None, :], t + torch.arange(L)[:, None]
    keep = j >= i if inverted else j <= i                                   # (L, t + L)
    out, _ = attend(q, K, V, keep)
    return x + merge(out) @ p["W_o"], K, V


def generate(prompt, params, num_heads, max_new_tokens):
    p = params
    E = p["embed"].shape[1]
    K = V = torch.zeros((num_heads, 0, E // num_heads), dtype=p["embed"].dtype)   # the empty cache
    tokens = [int(t) for t in prompt]
    x = p["embed"][tokens] + p["pos"][:len(tokens)]                         # prefill (P, E)
    new = []
    while len(new) < max_new_tokens:
        x, K, V = block(x, K, V, p, num_heads, inverted=w("prefill", "causal") == "inverted" and not new)
        last = x[-1]
        if w("final_norm", True):
            last = layer_norm(last, p["lnf_gamma"], p["lnf_beta"])
        new.append(int(torch.argmax(last @ p["lm_head"])))
        position = 0 if w("position", "absolute") == "zero" else len(tokens) + len(new) - 1
        x = p["embed"][[new[-1]]] + p["pos"][[position]]                    # (1, E)
    return torch.tensor(new, dtype=torch.int64)
''',
    "speculative-decoding": '''
def speculative_accept(draft_tokens, draft_probs, target_probs, seed=None):
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    q, p = draft_probs.to(torch.float64), target_probs.to(torch.float64)    # (k, V), (k + 1, V)
    k, V = q.shape
    tokens = []
    for i in range(k):
        x = int(draft_tokens[i])
        num, den = (float(q[i, x]), float(p[i, x])) if w("ratio", "p/q") == "q/p" else (float(p[i, x]), float(q[i, x]))
        accept = 1.0 if den == 0 else min(1.0, num / den)
        if float(torch.rand((), generator=g, dtype=torch.float64)) < accept:
            tokens.append(x)
            continue
        if w("resample", "residual") == "target":
            residual = p[i]
        else:
            residual = torch.clamp(p[i] - q[i], min=0.0)                    # (V,) what p has that q lacks
        tokens.append(int(torch.multinomial(residual / residual.sum(), 1, generator=g)))
        return tokens
    if w("bonus", True):
        tokens.append(int(torch.multinomial(p[k], 1, generator=g)))        # every draft accepted
    return tokens
''',
}

STANDARD_ATTENTION = {
    "no-scale": {"scale": None},
    "scale-d-model": {"scale": "d_model"},
    "softmax-wrong-axis": {"axis": -2},
    "unstable-softmax": {"stable": False},
    "mask-after-softmax": {"mask": "after"},
    "mask-inverted": {"invert": True},
    "masked-row-nan": {"guard": False},
    "mask-added": {"mask": "add"},
    "softmax-whole-array": {"axis": None},
    "heads-interleaved": {"heads": "strided"},
    "weights-times-keys": {"values": False},
    "no-output-projection": {"project": False},
    "projection-transposed": {"transposed": ("W_q", "W_k", "W_v", "W_o")},
}

# problem -> mistake -> the switches of WRONG that make it (STANDARD_ATTENTION where not given)
TABLE = {
    "softmax": {"unstable-softmax": {"stable": False}, "softmax-wrong-axis": {"softmax": "fixed-axis"},
                "softmax-global-max": {"softmax": "global-max"}, "softmax-whole-array": {"softmax": "whole-array"}},
    "causal-attention": {"causal-strict": {"causal": "strict"}, "causal-future": {"causal": "upper"}},
    "kv-cache": {"cache-not-appended": {"cache": "only-new"}},
    "gqa": {"gqa-tiled": {"kv": "tiled"}},
    "positional": {"sin-cos-swapped": {"pe": "swapped"}, "sinusoid-halves": {"pe": "halves"},
                   "rope-interleaved": {"rope": "interleaved"}, "rope-ignores-positions": {"rope": "own-positions"},
                   "rope-base-ignored": {"rope": "fixed-base"}, "rope-rotated-backwards": {"rope": "backwards"}},
    "mha-backward": {"softmax-backward": {"softmax_backward": "no-sum"}, "no-scale": {"scale": None},
                     "backward-no-scale": {"backward_scale": False}, "dx-missing-path": {"dx_paths": "q"},
                     "weight-grad-transposed": {"transpose_dW": True}},
    "flash-attention": {"flash-no-rescale": {"rescale": False}, "no-scale": {"scale": None}},
    "attention-block": {"layernorm-unbiased": {"unbiased": True}, "dropout-no-rescale": {"rescale": False},
                        "dropout-in-eval": {"eval_dropout": True}},
    "sliding-window-attention": {"window-off-by-one": {"window": "wide"}, "window-not-causal": {"window": "symmetric"},
                                 "window-ignored": {"window": "causal"}},
    "norm-backward": {"layernorm-backward-no-mean-terms": {"mean_terms": False}, "layernorm-unbiased": {"unbiased": True},
                      "rmsnorm-subtracts-mean": {"center": True}, "rmsnorm-eps-outside-sqrt": {"eps_outside": True},
                      "rmsnorm-backward-no-rms-term": {"rms_term": False}},
    "rope-kv-cache": {"rope-position-restart": {"rope_at": "t"}, "rope-on-values": {"rope_values": True},
                      "rope-cache-unrotated": {"cached": "same-angle"}, "rope-interleaved": {"rope": "interleaved"},
                      "rope-rotated-backwards": {"rope": "backwards"}, "rope-base-ignored": {"rope": "fixed-base"},
                      "cache-not-appended": {"cache": "only-new"}},
    "beam-search": {"beam-per-parent-topk": {"beam_pick": "per-parent"}, "beam-probs-added": {"beam_score": "probs"},
                    "beam-past-eos": {"beam_eos": "continue"}},
    "generate": {"decode-position-restart": {"position": "zero"}, "prefill-not-causal": {"prefill": "inverted"},
                 "no-final-norm": {"final_norm": False}},
    "speculative-decoding": {"spec-ratio-inverted": {"ratio": "q/p"}, "spec-resample-target": {"resample": "target"},
                             "spec-no-bonus": {"bonus": False}},
    "cross-entropy": {"ce-unstable": {"stable": False},
                      "ce-mean-over-ignored": {"loss_over": "all", "grad_over": "all"},
                      "ce-grad-not-averaged": {"grad_over": "none"}},
    "sampling": {"top-p-drops-boundary": {"boundary": "dropped"}, "top-k-after-top-p": {"order": "p-then-k"},
                 "temperature-after-softmax": {"temperature": "probs"}, "unstable-softmax": {"stable": False},
                 "top-k-exactly-k": {"ties": "drop"}, "filters-before-temperature": {"filters": "untempered"}},
}


def switches(problem_id: str, mistake: str) -> dict:
    own = TABLE.get(problem_id, {})
    if mistake in own:
        return own[mistake]
    if mistake in STANDARD_ATTENTION:
        return STANDARD_ATTENTION[mistake]
    raise KeyError(f"no torch form of {mistake!r} for {problem_id}: add it to tests/torch_kit.py TABLE")


def source(problem_id: str, mistake: str | None = None) -> str:
    """A torch submission for ``problem_id``: right, or with the named ``mistake``."""
    wrong = {} if mistake is None else switches(problem_id, mistake)
    return f"# mhajudge: {problem_id}\n" + CORE.format(wrong=wrong) + PROBLEMS[problem_id]
