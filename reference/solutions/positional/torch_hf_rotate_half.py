# mhajudge: positional
# expect-verdict: accepted
# Two public torch implementations, adapted to the signatures:
# - sinusoidal_encoding: the Annotated Transformer's PositionalEncoding buffer
#   (https://nlp.seas.harvard.edu/annotated-transformer/, harvardnlp/annotated-transformer);
# - apply_rope: Hugging Face's Llama `rotate_half` and `apply_rotary_pos_emb` with the
#   LlamaRotaryEmbedding frequencies (src/transformers/models/llama/modeling_llama.py,
#   https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/modeling_llama.py).
import math

import torch


def sinusoidal_encoding(seq_len, d_model):
    pe = torch.zeros(seq_len, d_model, dtype=torch.float64)
    position = torch.arange(0, seq_len, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * -(math.log(10000.0) / d_model))
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def rotate_half(x):
    """Rotates half the hidden dims of the input."""
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, positions, base=10000.0):
    dim = x.shape[-1]
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(torch.float64) / dim))
    freqs = positions.to(torch.float64)[:, None] * inv_freq[None, :]      # (L, d/2)
    emb = torch.cat((freqs, freqs), dim=-1)                               # (L, d)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    return (x * cos) + (rotate_half(x) * sin)
