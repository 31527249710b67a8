# mhajudge: positional
# expect-verdict: wrong-answer
# expect-diagnosis: float32-precision
# source: https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/modeling_llama.py
# Hugging Face's LlamaRotaryEmbedding and apply_rotary_pos_emb in NumPy: rotate_half, the
# right pairing, but inv_freq and the angles in float32 (".float()" in the original).
# Right to float32 precision only; far into the sequence the angles are off by ~1e-5.
import numpy as np


def sinusoidal_encoding(seq_len, d_model):
    pos = np.arange(seq_len)[:, None]
    angle = pos / 10000.0 ** (np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return pe


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return np.concatenate((-x2, x1), axis=-1)


def apply_rope(x, positions, base=10000.0):
    dim = x.shape[-1]
    inv_freq = 1.0 / (np.float32(base) ** (np.arange(0, dim, 2).astype(np.float32) / dim))
    freqs = (inv_freq[:, None] @ np.asarray(positions, dtype=np.float32)[None, :]).T
    emb = np.concatenate((freqs, freqs), axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)
    return (x * cos) + (rotate_half(x) * sin)
