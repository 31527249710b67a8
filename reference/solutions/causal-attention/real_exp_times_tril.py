# mhajudge: causal-attention
# expect-verdict: wrong-answer
# expect-diagnosis: heads-interleaved
# expect-explains: heads-interleaved
# source: https://github.com/cybershiptrooper/CV_bootcamp_SWB/blob/main/bonus_exercises/attention/soln/attention.py
# That solution's attention in NumPy, two defects at once: heads made with a reshape
# to (b, nh, wps, -1) and no transpose, and np.exp(qk) with no max subtraction (the
# causal mask multiplied in after exp, which is right). heads-interleaved explains every
# failing case but the large scores, where the overflow makes NaN of it too.
import numpy as np


def causal_self_attention(x, W_q, W_k, W_v, W_o, num_heads):
    b, wps, dm = x.shape
    dh = dm / num_heads
    qs = np.einsum("bwm, mo -> bwo", x, W_q).reshape((b, num_heads, wps, -1))
    vs = np.einsum("bwm, mo -> bwo", x, W_v).reshape((b, num_heads, wps, -1))
    ks = np.einsum("bwm, mo -> bwo", x, W_k).reshape((b, num_heads, wps, -1))
    qk = np.einsum("...nd, ...od->...no", qs, ks) / np.sqrt(dh)
    mask = np.tril(np.ones_like(qk))
    exp_qk = np.exp(qk)
    exp_qk *= mask
    exp_qk /= np.sum(exp_qk, axis=-1, keepdims=True)
    attn = np.einsum("...ij, ...jk->...ik", exp_qk, vs).reshape((b, wps, -1))
    return attn @ W_o, exp_qk
