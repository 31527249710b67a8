# mhajudge: positional
# expect-verdict: wrong-answer
# expect-diagnosis: rope-interleaved
# Meta's original Llama RoPE, `precompute_freqs_cis` and `apply_rotary_emb`
# (meta-llama/llama, llama/model.py: https://github.com/meta-llama/llama/blob/main/llama/model.py),
# adapted to one tensor and given positions. It is right for Meta's checkpoints, but it
# pairs adjacent features (2i, 2i+1) as complex numbers, where this problem (like Hugging
# Face's port) pairs feature i with i + d/2: the judge names that mistake.
import torch


def sinusoidal_encoding(seq_len, d_model):
    pos = torch.arange(seq_len, dtype=torch.float64)[:, None]
    angle = pos / 10000.0 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    return torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1).reshape(seq_len, d_model)


def precompute_freqs_cis(dim: int, positions: torch.Tensor, theta: float = 10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].double() / dim))
    freqs = torch.outer(positions.double(), freqs)
    freqs_cis = torch.polar(torch.ones_like(freqs), freqs)  # complex128
    return freqs_cis


def apply_rope(x, positions, base=10000.0):
    freqs_cis = precompute_freqs_cis(x.shape[-1], positions, base)
    x_ = torch.view_as_complex(x.double().reshape(*x.shape[:-1], -1, 2))
    x_out = torch.view_as_real(x_ * freqs_cis).flatten(-2)
    return x_out.type_as(x)
