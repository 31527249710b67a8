"""The named mistakes of beam-search, each in the forms people write it."""

import numpy as np

F = "beam_search"


def _rank(finished, live, beam_width, key=lambda h: h[1]):
    ranked = sorted(finished + live, key=lambda h: -key(h))[:beam_width]
    return [tokens for tokens, *_ in ranked], [score for _, score, *_ in ranked]


def per_parent_all_kept(step, bos, eos, beam_width, max_len):
    """Each hypothesis keeps its own beam_width best tokens, and every one of them survives."""
    live, finished = [([bos], 0.0)], []
    for _ in range(max_len):
        if not live:
            break
        logp = np.asarray(step([t for t, _ in live]))
        nxt = []
        for (tokens, score), row in zip(live, logp):
            for token in np.argsort(-row)[:beam_width]:
                hyp = (tokens + [int(token)], score + float(row[token]))
                (finished if token == eos else nxt).append(hyp)
        live = nxt
    return _rank(finished, live, beam_width)


def per_parent_split(step, bos, eos, beam_width, max_len):
    """The beam's budget is split among the parents: each keeps its best beam_width // n_live."""
    live, finished = [([bos], 0.0)], []
    for _ in range(max_len):
        if not live:
            break
        logp = np.asarray(step([t for t, _ in live]))
        share = max(1, beam_width // len(live))
        nxt = []
        for (tokens, score), row in zip(live, logp):
            for token in np.argsort(-row)[:share]:
                hyp = (tokens + [int(token)], score + float(row[token]))
                (finished if token == eos else nxt).append(hyp)
        live = nxt[:beam_width]
    return _rank(finished, live, beam_width)


def _search(step, bos, eos, beam_width, max_len, add, stop_at_eos=True):
    """Global top-k beam search with the score update ``add`` (the pattern of the reference)."""
    live, finished = [([bos], 0.0, 0.0)], []           # tokens, log-prob sum, ranked-by score
    for _ in range(max_len):
        if not live:
            break
        logp = np.asarray(step([t for t, _, _ in live]))
        cands = []
        for (tokens, lp, key), row in zip(live, logp):
            for token in range(row.size):
                cands.append((tokens + [token], lp + float(row[token]), add(key, float(row[token]))))
        cands.sort(key=lambda h: -h[2])
        live = []
        for hyp in cands[:beam_width]:
            (finished if stop_at_eos and hyp[0][-1] == eos else live).append(hyp)
    return finished, live


def probs_added(step, bos, eos, beam_width, max_len):
    """score += p (a probability), and that sum is what is returned."""
    finished, live = _search(step, bos, eos, beam_width, max_len, lambda s, lp: s + np.exp(lp))
    ranked = sorted(finished + live, key=lambda h: -h[2])[:beam_width]
    return [h[0] for h in ranked], [h[2] for h in ranked]


def probs_added_log_returned(step, bos, eos, beam_width, max_len):
    """Ranked by summed probabilities, but the log-probability sums returned."""
    finished, live = _search(step, bos, eos, beam_width, max_len, lambda s, lp: s + np.exp(lp))
    ranked = sorted(finished + live, key=lambda h: -h[2])[:beam_width]
    return [h[0] for h in ranked], [h[1] for h in ranked]


def past_eos(step, bos, eos, beam_width, max_len):
    """A hypothesis that produced eos stays live and keeps being extended."""
    finished, live = _search(step, bos, eos, beam_width, max_len, lambda s, lp: s + lp, stop_at_eos=False)
    ranked = sorted(live, key=lambda h: -h[1])[:beam_width]
    return [h[0] for h in ranked], [h[1] for h in ranked]


def past_eos_cut(step, bos, eos, beam_width, max_len):
    """Finished hypotheses keep competing for (and growing in) the beam; cut at the first eos when returned."""
    finished, live = _search(step, bos, eos, beam_width, max_len, lambda s, lp: s + lp, stop_at_eos=False)
    ranked = sorted(live, key=lambda h: -h[1])[:beam_width]
    seqs = [h[0][:h[0].index(eos, 1) + 1] if eos in h[0][1:] else h[0] for h in ranked]
    return seqs, [h[1] for h in ranked]


MISTAKES = {
    "beam-per-parent-topk": {F: [per_parent_all_kept, per_parent_split]},
    "beam-probs-added": {F: [probs_added, probs_added_log_returned]},
    "beam-past-eos": {F: [past_eos, past_eos_cut]},
}
