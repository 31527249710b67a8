"""The sandbox: running untrusted candidate code, and the protocol it is spoken to in.

The judge (:mod:`.runner`) starts one child process per submission
(:mod:`.child`, optionally inside bubblewrap, :mod:`.isolation`, and a control
group, :mod:`.cgroup`). The child is trusted: it never runs candidate code itself.
It screens the source (:mod:`.guard`), then forks one process per case
(:mod:`.fork`), which imports the candidate and runs a *program*
(:mod:`.programs`). The next case's process is forked ahead, while a case runs and
the judge checks its answer (a *spare*: it fills free memory with NaN, then waits for
its case's frame, and runs no candidate code before it has it); a memory-measured
case, or one with inputs over 4 MiB, is forked afresh once its inputs are decoded. Frames travel in the format of :mod:`.wire`; answers are
flattened along the problem's answer tree (:mod:`.answers`); every reply from a
case is read as hostile input (:mod:`.replies`).

Protocol (frames of :mod:`wire`):

- judge -> child, first: ``{"op": "load", "file", "source", "entry_points", "forbidden"}``;
  child -> judge: ``{"op": "load-failed", "verdict", "message", "line"}`` when this
  trusted process refuses the source itself (a syntax error, a banned import
  written in it), else ``{"op": "probe", "reply", "ended", "measured"}`` for the
  import in a probe fork.
- judge -> child, per case: ``{"op": "case", "id", "program", "time_limit"}`` with the
  inputs as payload; child -> judge: ``{"op": "result", "id", "reply", "ended",
  "measured"}`` with the case's answer as payload. A ``call`` program with ``"trace":
  {limits}`` runs traced instead (:mod:`.tracing`): the reply is ``{"status": "traced",
  "outcome", "trace": [{fn, line, name, shape, leaf}]}`` and the payload the captured
  arrays, read as hostile by :mod:`.traces`.

``reply`` (and the payload) is what the forked process said: candidate code ran
there, so the judge reads it as hostile input (:mod:`.replies`). ``ended``
and ``measured`` are what this process saw from outside: ``ended`` is set when no
reply came (``{"status": "time-limit"}``, ``"signal"`` with its number, ``"exited"``
with its code, ``"runtime-error"`` for an unreadable reply or a flood), and
``measured`` holds ``wall_s``, ``cpu_s`` and ``rss_bytes`` (the case's process and
everything below it, from ``wait4``) and ``base_cpu_s`` / ``base_rss_bytes`` (what
a fork that does nothing costs).

Memory: a program may set ``"memory": true``: the peak of NumPy/Python allocations
during the calls (``tracemalloc``) is reported as ``peak_bytes``; the judge adds the
larger of it and the peak resident memory measured from outside to the answer as
the leaf ``$peak_bytes`` (an int64 scalar), which a problem's custom check reads;
the default comparison ignores leaves it does not expect.

Models and timings: inputs may hold ``{"$model": {...}}``, a function of the
judge's built from plain arrays (:mod:`.models`). The judge then marks the case
``"models": true``; the child takes the markers out of the inputs, answers the
case's calls to them itself over a socket and counts them (:mod:`.serving`), and
``measured`` holds ``model_calls`` and ``model_rows``, which the judge adds to the
answer as the leaves ``$model_calls`` and ``$model_rows``. A ``steps``
program may set ``"times": true``: the child then takes the steps out of the inputs,
hands them to the case's process one at a time over the same socket, each after the
last one's answer, and times each (wall clock, from outside); the answer is what came
back for each step, and ``measured`` holds ``step_times``, which the judge adds as the
leaf ``$step_times`` (:class:`.serving.Driver`).
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = HERE / "child.py"
# The files the child loads: all that is bound into an isolated view of the judge.
CHILD_FILES = [HERE / f"{name}.py" for name in ("child", "wire", "answers", "programs", "models", "serving", "guard", "fork",
                                                       "tracing", "torch_track")]
# Where an isolated view holds them: a folder named for nothing importable, so no
# `mhajudge` package can be pieced together from the folders around them.
INNER = "/judge-child"
