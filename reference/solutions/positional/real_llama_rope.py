# mhajudge: positional
# expect-verdict: wrong-answer
# expect-diagnosis: rope-interleaved
# source: https://github.com/meta-llama/llama/blob/main/llama/model.py
# Meta's precompute_freqs_cis / apply_rotary_emb written in NumPy: the frequencies and
# angles in float32 (torch's default there), and adjacent features (2i, 2i+1) paired as
# one complex number, Llama's own convention. This problem pairs i with i + d/2, so it is
# rope-interleaved, recognisable only at float32 precision.
import numpy as np


def sinusoidal_encoding(seq_len, d_model):
    pos = np.arange(seq_len)[:, None]
    angle = pos / 10000.0 ** (np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return pe


def precompute_freqs_cis(dim, positions, theta=10000.0):
    freqs = 1.0 / (np.float32(theta) ** (np.arange(0, dim, 2)[: dim // 2].astype(np.float32) / dim))
    t = np.asarray(positions).astype(np.float32)
    freqs = np.outer(t, freqs).astype(np.float32)
    return (np.cos(freqs) + 1j * np.sin(freqs)).astype(np.complex64)      # torch.polar


def apply_rope(x, positions, base=10000.0):
    freqs_cis = precompute_freqs_cis(x.shape[-1], positions, base)
    x_ = x.reshape(*x.shape[:-1], -1, 2)
    x_ = x_[..., 0] + 1j * x_[..., 1]                                       # view_as_complex
    out = x_ * freqs_cis
    return np.stack([out.real, out.imag], axis=-1).reshape(x.shape)        # view_as_real, flatten
