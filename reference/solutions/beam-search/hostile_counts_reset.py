# mhajudge: beam-search
# expect-verdict: wrong-answer
# Hostile: rescores every hypothesis from scratch (far over the row budget), then tries every way it
# can find to make the count of its step() calls small: set counters on step, zero the counts of any
# model object it can reach in this process (the garbage collector's objects, the stack above it),
# and drop the channel step talks over once its answer is made. The counts are the trusted child's,
# kept outside this process (mhajudge/sandbox/serving.py): the answer is right, and every case fails
# on the prefixes it asked for. (Before, `step._counts[:] = [0, 0, 0]` passed it.)
import gc
import sys

import numpy as np


def score_of(step, seq):
    rows = np.asarray(step([seq[:i] for i in range(1, len(seq))]))
    return float(sum(rows[i - 1, seq[i]] for i in range(1, len(seq))))


def zero_counts(obj):
    try:
        counts = object.__getattribute__(obj, "_counts")
    except Exception:  # noqa: BLE001
        return
    try:
        counts[:] = [0] * len(counts)
    except Exception:  # noqa: BLE001
        pass


def reset_everything(step):
    for name in ("_counts", "counts", "calls", "rows", "usage"):
        try:
            setattr(step, name, [0, 0, 0])
        except Exception:  # noqa: BLE001
            pass
    zero_counts(step)
    for obj in gc.get_objects():
        zero_counts(obj)
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            zero_counts(value)
        frame = frame.f_back
    for module in list(sys.modules.values()):
        channel = getattr(module, "CHANNEL", None)
        if isinstance(channel, list) and channel and hasattr(channel[0], "close"):
            channel[0].close()


def beam_search(step, bos, eos, beam_width, max_len):
    live, finished = [[bos]], []
    for _ in range(max_len):
        if not live:
            break
        V = np.asarray(step([live[0]])).shape[1]
        cands = [seq + [t] for seq in live for t in range(V)]
        scored = sorted(((score_of(step, c), c) for c in cands), key=lambda x: -x[0])[:beam_width]
        live = []
        for s, c in scored:
            (finished if c[-1] == eos else live).append(c)
    pool = sorted(((score_of(step, c), c) for c in finished + live), key=lambda x: -x[0])[:beam_width]
    reset_everything(step)
    return [c for _, c in pool], [s for s, _ in pool]
