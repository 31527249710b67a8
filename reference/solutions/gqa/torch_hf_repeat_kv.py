# mhajudge: gqa
# expect-verdict: accepted
# Hugging Face transformers' Llama attention, eager path: `repeat_kv` and
# `eager_attention_forward` (src/transformers/models/llama/modeling_llama.py,
# https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/modeling_llama.py),
# with the problem's weights for q_proj/k_proj/v_proj/o_proj, no RoPE and no dropout,
# and the boolean mask turned into the additive mask HF passes (min of the dtype where blocked).
import torch
from torch import nn


def repeat_kv(hidden_states: torch.Tensor, n_rep: int) -> torch.Tensor:
    """
    This is the equivalent of torch.repeat_interleave(x, dim=1, repeats=n_rep). The hidden states go from (batch,
    num_key_value_heads, seqlen, head_dim) to (batch, num_attention_heads, seqlen, head_dim)
    """
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def eager_attention_forward(query, key, value, attention_mask, scaling, num_key_value_groups):
    key_states = repeat_kv(key, num_key_value_groups)
    value_states = repeat_kv(value, num_key_value_groups)

    attn_weights = torch.matmul(query, key_states.transpose(2, 3)) * scaling
    if attention_mask is not None:
        causal_mask = attention_mask[:, :, :, : key_states.shape[-2]]
        attn_weights = attn_weights + causal_mask

    # upcast to fp32 (HF); float64 here, so that the float64 cases keep their precision
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float64).to(query.dtype)
    attn_output = torch.matmul(attn_weights, value_states)
    attn_output = attn_output.transpose(1, 2).contiguous()
    return attn_output, attn_weights


def grouped_query_attention(x, W_q, W_k, W_v, W_o, num_heads, num_kv_heads, mask=None):
    if num_kv_heads < 1 or num_heads % num_kv_heads != 0:
        raise ValueError(f"num_heads={num_heads} is not a multiple of num_kv_heads={num_kv_heads}")
    bsz, q_len, hidden_size = x.shape
    head_dim = hidden_size // num_heads
    query_states = (x @ W_q).view(bsz, q_len, -1, head_dim).transpose(1, 2)
    key_states = (x @ W_k).view(bsz, q_len, -1, head_dim).transpose(1, 2)
    value_states = (x @ W_v).view(bsz, q_len, -1, head_dim).transpose(1, 2)
    attention_mask = None
    if mask is not None:
        blocked = ~torch.broadcast_to(mask.bool(), (bsz, num_heads, q_len, q_len))
        attention_mask = torch.zeros(blocked.shape, dtype=x.dtype).masked_fill(blocked, torch.finfo(x.dtype).min)
    attn_output, _ = eager_attention_forward(query_states, key_states, value_states, attention_mask,
                                             head_dim ** -0.5, num_heads // num_kv_heads)
    attn_output = attn_output.reshape(bsz, q_len, -1).contiguous()
    return attn_output @ W_o
