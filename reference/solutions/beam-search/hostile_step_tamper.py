# mhajudge: beam-search
# expect-verdict: wrong-answer
# Hostile: tries to read the judge's answer through the step object, and to replace step's counters
# (step is a proxy with slots and no counts: they are the trusted child's, see
# mhajudge/sandbox/serving.py); the answer it returns is then just wrong.
def beam_search(step, bos, eos, beam_width, max_len):
    for name in ("expected", "answer", "_expected", "__dict__"):
        assert not hasattr(step, name), name
    try:
        step._counts = [0, 0, 0]
        step.usage = lambda: (0, 0)
    except AttributeError:
        pass
    return [[bos, eos]] * beam_width, [0.0] * beam_width
