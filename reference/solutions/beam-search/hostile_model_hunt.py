# mhajudge: beam-search
# expect-verdict: wrong-answer
# Hostile: looks for the judge's model itself in this process (an object with the model's weights,
# or a {"$model": ...} marker with its arrays, among the garbage collector's objects and up the
# stack), to rescore from scratch on it where no call is counted. The case's process is forked
# before its case's inputs reach the trusted child, and gets them with the model taken out
# (mhajudge/sandbox/serving.py): what it can find is at most an earlier case's model, whose answers
# are wrong here; with nothing found it rescores through step and is over the row budget. It also
# kills the next case's process, forked ahead while it runs (its sibling), so that the next one is
# forked later: at the end of this case, still before that case's inputs come.
import gc
import os
import signal
import sys

import numpy as np


def log_softmax(z):
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def found_model():
    """A step function rebuilt from weights found in this process, or None."""
    seen = list(gc.get_objects())
    frame = sys._getframe()
    while frame is not None:
        seen.extend(frame.f_locals.values())
        frame = frame.f_back
    for obj in seen:
        weights = None
        if isinstance(obj, dict) and isinstance(obj.get("$model"), dict):
            weights = obj["$model"]
        elif type(obj).__name__ == "RecurrentModel":
            try:
                weights = {k: object.__getattribute__(obj, "_" + k) for k in ("embed", "W_h", "W_out", "bias")}
            except Exception:  # noqa: BLE001
                weights = None
        if weights is not None and all(k in weights for k in ("embed", "W_h", "W_out", "bias")):
            E, W, O, b = (np.asarray(weights[k], dtype=float) for k in ("embed", "W_h", "W_out", "bias"))

            def own_step(prefixes, E=E, W=W, O=O, b=b):
                out = []
                for p in prefixes:
                    h = np.zeros(W.shape[0])
                    for t in p:
                        h = np.tanh(E[t] + h @ W)
                    out.append(log_softmax(h @ O + b))
                return np.array(out)

            return own_step
    return None


def score_of(step, seq):
    rows = np.asarray(step([seq[:i] for i in range(1, len(seq))]))
    return float(sum(rows[i - 1, seq[i]] for i in range(1, len(seq))))


def kill_siblings():
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid == os.getppid() and int(entry) != os.getpid():
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass


def beam_search(step, bos, eos, beam_width, max_len):
    kill_siblings()
    step = found_model() or step
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
    return [c for _, c in pool], [s for s, _ in pool]
