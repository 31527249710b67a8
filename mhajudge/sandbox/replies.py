"""What the sandbox sends back, read as hostile input.

The child's trusted process (the zygote, which never runs candidate code) relays
two kinds of facts about each case (see :mod:`mhajudge.sandbox.child`):

- ``ended`` and ``measured``: what it saw from outside the case's process (the
  time limit, a kill, an early exit; wall clock, CPU time and peak resident
  memory from ``wait4``). Trusted.
- ``reply`` and the payload: what the case's process said. Candidate code runs
  in that process and can forge every byte of it, so each field is checked here
  against a closed set of statuses, types and ranges. Anything else makes the
  case a ``runtime-error`` with a plain message, never an internal error, and
  no name or number the candidate chose can select a verdict: the exception
  class is one of Python's builtin ones (found by identity in the child), times
  and peaks are clamped by what was measured from outside.
"""

from __future__ import annotations

import builtins
import math
import re
import signal
from dataclasses import dataclass, field

from ..untrusted import clean
from .programs import TIMES_LEAF

CASE_STATUSES = ("ok", "raised", "bad-answer", "forbidden", "memory-limit", "runtime-error")
LOAD_VERDICTS = ("load-error", "forbidden", "memory-limit")
BUILTIN_EXCEPTIONS = frozenset(n for n, c in vars(builtins).items() if isinstance(c, type) and issubclass(c, BaseException))
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
PEAK_LEAF = "$peak_bytes"  # the answer leaf a memory-bound check reads (see mhajudge.sandbox)
MAX_LEAVES = 4096
SLACK_CPU_S = 0.005  # CPU time of a case's process beyond an empty fork's not spent in the calls (import, copying; ~3 ms measured)


@dataclass
class RunResult:
    """What came back for one case, before any comparison."""
    status: str                    # ok, raised, bad-answer, time-limit, memory-limit, runtime-error, forbidden
    answer: dict | None = None     # flat {name: ndarray}
    message: str = ""
    exception: str | None = None   # for "raised": a builtin exception class name, never the candidate's
    time_s: float | None = None
    peak_bytes: int | None = None


@dataclass
class Loaded:
    ok: bool
    verdict: str = ""
    message: str = ""
    line: int | None = None
    missing: dict = field(default_factory=dict)


class Malformed(Exception):
    """A reply field that is not what an honest case process sends."""


def _number(value, what: str, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)):
        raise Malformed(f"{what} is not a number")
    if not math.isfinite(value) or value < 0 or value > 2 ** 62:
        raise Malformed(f"{what} is not a finite, non-negative number")
    return value


def _line(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10 ** 7 else None


def _module(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= 100 and MODULE_RE.match(value) else None


# -- what the zygote saw -------------------------------------------------------

def ended_message(ended: dict, limit: float) -> tuple[str, str]:
    """(status, message) for a case whose process gave no reply."""
    status = ended.get("status")
    if status == "time-limit":
        return "time-limit", f"still running after {limit:g} s (an infinite loop, or far too slow)"
    if status == "signal":
        sig = ended.get("signal")
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        verdict = "memory-limit" if sig == signal.SIGKILL else "runtime-error"
        return verdict, (f"the process was killed by {name}"
                         + (" (a crash in native code)" if sig == signal.SIGSEGV else "")
                         + (" (most often: over the memory limit)" if sig == signal.SIGKILL else ""))
    if status == "exited":
        return "runtime-error", (f"the process exited (status {ended.get('code')}) before returning an answer; "
                                 "is there a sys.exit() or os._exit() in the code?")
    if ended.get("why") == "fork":
        return "runtime-error", ("the case's process could not be started: the submission's processes "
                                 "reached their limit (is the code starting processes or threads?)")
    if ended.get("why") == "steps":
        return "runtime-error", ("the case's process did not answer its timed steps one at a time, as the judge "
                                 "handed them over (was the judge's channel written to?)")
    if ended.get("why") == "flood":
        return "runtime-error", "the process wrote hundreds of MiB to the judge's channel without a valid answer"
    return "runtime-error", f"the answer could not be read back: {clean(ended.get('error', ''), 300)}"


def _measured(out: dict) -> dict:
    m = out.get("measured")
    return m if isinstance(m, dict) else {}


def honest_time(claimed: float | None, measured: dict, calls: int) -> float | None:
    """The candidate's time per call, kept within what was measured from outside.

    ``claimed`` (the median of repeats, timed in the case's process) is precise but
    forgeable; the CPU time of the case's process (``wait4``) is not. The time shown
    is at most the wall clock of the whole case, and at least the CPU time beyond
    what an empty fork costs, shared over the most calls the program could make.
    """
    wall, cpu = measured.get("wall_s"), measured.get("cpu_s")
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (wall, cpu)):
        return claimed
    base = measured.get("base_cpu_s") or 0.0
    low = max(0.0, cpu - 2 * base - SLACK_CPU_S) / max(calls, 1)
    value = low if claimed is None else max(claimed, low)
    return min(value, max(wall, low))


SENDING_COPIES = 4      # copies of the answer the case's process makes to send it (shape, .npy, frame, marker)
SENDING_SLACK = 1 << 20
# The control group also holds the trusted child's copies of the inputs and of the
# answer on their way, and a fork's fresh pages: measured 27 MiB over the tiled
# reference's 2 MiB at L = 4096 (6 MiB of inputs, 2 MiB of answer).
GROUP_INPUT_COPIES, GROUP_ANSWER_COPIES, GROUP_SLACK = 4, 6, 8 << 20


def honest_peak(claimed: int | None, measured: dict, answer_bytes: int) -> int:
    """The peak memory of a memory-measured call: the largest of the in-process
    measure (tracemalloc, forgeable), the peak resident memory of the case's
    processes beyond an empty fork's (``wait4``, which an mmap or a reset cannot
    hide), and the peak of the submission's control group during the case (which a
    memfd or a file in /tmp cannot hide either), each less what moving the inputs
    and the answer costs."""
    rss, base = measured.get("rss_bytes"), measured.get("base_rss_bytes")
    outside = 0
    if isinstance(rss, int) and isinstance(base, int):
        outside = rss - base - SENDING_COPIES * answer_bytes - SENDING_SLACK
    group, inputs = measured.get("group_bytes"), measured.get("input_bytes")
    if isinstance(group, int) and isinstance(inputs, int):  # the submission's control group, where it has one
        outside = max(outside, group - GROUP_INPUT_COPIES * inputs - GROUP_ANSWER_COPIES * answer_bytes - GROUP_SLACK)
    return max(int(claimed or 0), outside, 0)


# -- what the case's process said ------------------------------------------------

def expected_leaves(program: dict, inputs: dict) -> set[str]:
    """The names of the parts an honest answer to ``program`` has (see :mod:`.programs`)."""
    from .answers import leaves
    from .programs import step_leaf

    names = leaves(program["returns"])
    if program.get("kind") == "steps":
        return {step_leaf(k, n) for k in range(len(inputs.get("steps", []))) for n in names}
    return set(names)


def case_result(out: dict, payload, program: dict, limit: float, leaves: set[str] | None = None,
                served: bool = False, timed: int | None = None) -> RunResult:
    """The :class:`RunResult` of one case from the zygote's relay ``out``; ``leaves``:
    the parts an honest answer has (none missing, none more). ``served``: the inputs
    held the judge's models, whose usage the zygote counted (``measured``'s
    ``model_calls`` and ``model_rows``): it becomes the answer's leaves
    ``$model_calls`` and ``$model_rows``. ``timed``: the number of steps of a timed
    program, which the zygote timed (``measured``'s ``step_times``): the answer's
    ``$step_times`` leaf (see :mod:`.serving`)."""
    ended = out.get("ended")
    if isinstance(ended, dict):
        status, message = ended_message(ended, limit)
        return RunResult(status, message=message)
    try:
        result = _from_reply(out.get("reply"), payload, program, _measured(out), leaves)
        if served and result.answer is not None:
            result.answer.update(_usage(_measured(out)))
        if timed is not None and result.answer is not None:
            result.answer[TIMES_LEAF] = _step_times(_measured(out), timed)
        return result
    except Malformed as exc:
        return RunResult("runtime-error", message=f"the case's process sent a malformed reply ({exc}); "
                                                  "the judge does not trust it")


def _usage(measured: dict) -> dict:
    """The model-usage leaves from what the zygote counted (it always counts a served case)."""
    import numpy as np

    from .models import CALLS_LEAF, ROWS_LEAF

    calls, rows = measured.get("model_calls"), measured.get("model_rows")
    if type(calls) is not int or type(rows) is not int or calls < 0 or rows < 0:
        raise Malformed("the judge's model usage is missing")
    return {CALLS_LEAF: np.asarray(calls, dtype=np.int64), ROWS_LEAF: np.asarray(rows, dtype=np.int64)}


def _step_times(measured: dict, steps: int):
    """The ``$step_times`` leaf from the zygote's timing of each step (it always times a
    timed program whose every step was answered)."""
    import numpy as np

    times = measured.get("step_times")
    if (not isinstance(times, list) or len(times) != steps
            or not all(type(t) is float and math.isfinite(t) and t >= 0 for t in times)):
        raise Malformed("the judge's timings of the steps are missing")
    return np.asarray(times, dtype=np.float64)


def _from_reply(reply, payload, program: dict, measured: dict, leaves: set[str] | None) -> RunResult:
    if not isinstance(reply, dict):
        raise Malformed("not a reply object")
    status = reply.get("status")
    if status not in CASE_STATUSES:
        raise Malformed("unknown status")
    message = clean(reply.get("message", ""))
    if status == "raised":
        exception = reply.get("exception")
        if exception not in BUILTIN_EXCEPTIONS:
            raise Malformed("the exception is not a builtin class")
        return RunResult("raised", message=message, exception=exception)
    if status == "forbidden":
        module, call = _module(reply.get("module")), _module(reply.get("call"))
        if call:  # a banned torch function (torch track)
            return RunResult("forbidden", message=f"called '{call}', which is not allowed on the torch track: "
                                                  "write it from scratch with tensor operations")
        return RunResult("forbidden", message=f"tried to import '{module}', which is not allowed"
                         if module else "the code tried something that is not allowed here")
    if status != "ok":
        return RunResult(status, message=message)
    claimed = reply.get("time_s")
    claimed = None if claimed is None else _number(claimed, "time_s")
    if not isinstance(payload, dict) or len(payload) > MAX_LEAVES:
        raise Malformed("no answer arrays")
    import numpy as np

    if not all(isinstance(k, str) and type(v) is np.ndarray for k, v in payload.items()):
        raise Malformed("the answer is not a set of named arrays")
    if leaves is not None and set(payload) != leaves:  # a part missing, or one added to pad the answer
        raise Malformed("the answer's parts are not the ones the problem declares")
    memory = bool(program.get("memory"))
    calls = program.get("timing", {}).get("most", 5) if program.get("kind", "call") == "call" and not memory else 1
    answer = {k: v for k, v in payload.items() if k != PEAK_LEAF}
    peak = None
    if memory:
        claimed_peak = reply.get("peak_bytes")
        claimed_peak = None if claimed_peak is None else int(_number(claimed_peak, "peak_bytes", integer=True))
        peak = honest_peak(claimed_peak, measured, sum(v.nbytes for v in answer.values()))
        answer[PEAK_LEAF] = np.asarray(peak, dtype=np.int64)
    return RunResult("ok", answer=answer, time_s=honest_time(claimed, measured, calls), peak_bytes=peak)


def probe_loaded(msg: dict, load_limit: float, entry_points: list[dict]) -> Loaded:
    """:class:`Loaded` from the child's answer to ``load``.

    ``load-failed`` comes from the zygote itself (a syntax error, a banned import
    in the source) and is trusted but for its text; ``probe`` relays the import
    in a grandchild, which the candidate's code ran in.
    """
    op = msg.get("op")
    if op == "load-failed":
        verdict = msg.get("verdict") if msg.get("verdict") in ("load-error", "forbidden") else "load-error"
        return Loaded(False, verdict, clean(msg.get("message", "")), _line(msg.get("line")))
    if op != "probe":
        return Loaded(False, "load-error", "the child answered out of turn")
    ended = msg.get("ended")
    if isinstance(ended, dict):
        if ended.get("status") == "time-limit":
            return Loaded(False, "time-limit", f"importing the file took more than {load_limit:g} s "
                                               "(is there a loop at the top level?)")
        status, message = ended_message(ended, load_limit)
        return Loaded(False, "memory-limit" if status == "memory-limit" else "load-error",
                      f"importing the file failed: {message}")
    reply = msg.get("reply")
    if not isinstance(reply, dict):
        return Loaded(False, "load-error", "importing the file failed: a malformed reply")
    if reply.get("status") == "loaded":
        names = {ep["name"] for ep in entry_points}
        missing = reply.get("missing")
        if not isinstance(missing, dict) or not all(k in names and isinstance(v, str) for k, v in missing.items()):
            return Loaded(False, "load-error", "importing the file failed: a malformed reply")
        return Loaded(True, missing={k: clean(v) for k, v in missing.items()})
    if reply.get("status") == "load-failed":
        verdict = reply.get("verdict") if reply.get("verdict") in LOAD_VERDICTS else "load-error"
        if verdict == "forbidden":
            module, call = _module(reply.get("module")), _module(reply.get("call"))
            message = (f"called '{call}' while being imported, which is not allowed on the torch track" if call
                       else f"tried to import '{module}', which is not allowed: solve it with NumPy"
                       if module else "the file tried to import something that is not allowed")
        else:
            message = clean(reply.get("message", ""))
        return Loaded(False, verdict, message, _line(reply.get("line")))
    return Loaded(False, "load-error", "importing the file failed: a malformed reply")
