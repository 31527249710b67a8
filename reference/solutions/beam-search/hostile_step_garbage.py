# mhajudge: beam-search
# expect-verdict: runtime-error
# Hostile: calls the judge's step with garbage (a huge list, floats, negative ids, a non-list);
# each must be refused quickly as this file's own error, never hang or crash the judge.
def beam_search(step, bos, eos, beam_width, max_len):
    for garbage in ([[bos]] * 10**6, [[1.5]], [[-1]], [[bos, 10**30]], "abc", [[True]], [[]], [list(range(10**5))]):
        try:
            step(garbage)
        except (TypeError, ValueError):
            continue
        raise RuntimeError(f"step accepted {type(garbage).__name__}")
    step([[bos, -3]])   # refused: the case is this file's runtime error
    return [[bos]], [0.0]
