# mhajudge: sampling
# expect-verdict: accepted
# Hugging Face transformers' logits warpers, as in src/transformers/generation/logits_process.py
# (https://github.com/huggingface/transformers/blob/main/src/transformers/generation/logits_process.py):
# TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper (min_tokens_to_keep=1,
# filter_value=-inf), applied in that order, then generate()'s softmax and torch.multinomial,
# adapted to one (V,) logits vector and a seeded torch.Generator.
import torch
from torch import nn


def temperature_warper(scores, temperature):
    return scores / temperature


def top_k_warper(scores, top_k, min_tokens_to_keep=1, filter_value=-float("inf")):
    top_k = min(max(top_k, min_tokens_to_keep), scores.size(-1))  # Safety check
    # Remove all tokens with a probability less than the last token of the top-k
    indices_to_remove = scores < torch.topk(scores, top_k)[0][..., -1, None]
    return scores.masked_fill(indices_to_remove, filter_value)


def top_p_warper(scores, top_p, min_tokens_to_keep=1, filter_value=-float("inf")):
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)

    # Remove tokens with cumulative top_p above the threshold (token with 0 are kept)
    sorted_indices_to_remove = cumulative_probs <= (1 - top_p)
    # Keep at least min_tokens_to_keep
    sorted_indices_to_remove[..., -min_tokens_to_keep:] = 0

    # scatter sorted tensors to original indexing
    indices_to_remove = sorted_indices_to_remove.scatter(0, sorted_indices, sorted_indices_to_remove)
    return scores.masked_fill(indices_to_remove, filter_value)


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, seed=None):
    if temperature < 0:
        raise ValueError(f"`temperature` has to be a strictly positive float or 0, but is {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"`top_k` has to be a strictly positive integer, but is {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"`top_p` has to be a float > 0 and <= 1, but is {top_p}")
    scores = logits.to(torch.float64)
    if temperature == 0:
        return int(torch.argmax(scores))  # greedy search
    scores = temperature_warper(scores, temperature)
    if top_k is not None:
        scores = top_k_warper(scores, top_k)
    if top_p is not None:
        scores = top_p_warper(scores, top_p)
    probs = nn.functional.softmax(scores, dim=-1)
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return int(torch.multinomial(probs, num_samples=1, generator=generator))
