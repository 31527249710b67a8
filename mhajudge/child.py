"""The sandboxed child: imports the candidate once, then runs each case in a fork.

Run as a script (``python -I child.py CMD_FD RESULT_FD``), never imported by the
candidate's process as part of the ``mhajudge`` package: the package is not in
``sys.modules`` here, so an ``import mhajudge`` by the candidate is caught by
the import guard like any other banned module.

Protocol (frames of :mod:`wire`):

- judge -> child, first: ``{"op": "load", "file", "source", "entry_points", "forbidden"}``;
  child -> judge: ``{"op": "load-failed", "verdict", "message", "line"}`` when this
  trusted process refuses the source itself (a syntax error, a banned import
  written in it), else ``{"op": "probe", "reply", "ended", "measured"}`` for the
  import in a probe fork.
- judge -> child, per case: ``{"op": "case", "id", "program", "time_limit"}`` with the
  inputs as payload; child -> judge: ``{"op": "result", "id", "reply", "ended",
  "measured"}`` with the case's answer as payload.

``reply`` (and the payload) is what the forked process said: candidate code ran
there, so the judge reads it as hostile input (:mod:`mhajudge.replies`). ``ended``
and ``measured`` are what this process saw from outside: ``ended`` is set when no
reply came (``{"status": "time-limit"}``, ``"signal"`` with its number, ``"exited"``
with its code, ``"runtime-error"`` for an unreadable reply or a flood), and
``measured`` holds ``wall_s``, ``cpu_s`` and ``rss_bytes`` (the case's process and
everything below it, from ``wait4``) and ``base_cpu_s`` / ``base_rss_bytes`` (what
a fork that does nothing costs).

Programs (the only ways the judge can drive a candidate):

- ``call``: one call ``fn(*args, **kwargs)``; the answer is its flattened return.
- ``repeat``: the same call once per item of ``vary`` (each item a dict of
  keyword overrides, e.g. a seed or ``{"$rng": seed}``); each leaf of the
  answer is stacked along a new first axis.
- ``steps``: a sequence of calls; an argument ``{"$prev": i}`` is replaced by
  part ``i`` of the previous call's return value (e.g. a KV cache handed back).
  Each step keeps its own leaves, named ``step {k} {leaf}`` (``step 0 out_t``,
  ``step 2 K_cache``), since their shapes may change from step to step.

Any program may set ``"memory": true``: the peak of NumPy/Python allocations
during the calls (``tracemalloc``) is reported as ``peak_bytes``; the judge adds
the larger of it and the peak resident memory measured from outside to the answer
as the leaf ``$peak_bytes`` (an int64 scalar), which a problem's custom check
reads; the default comparison ignores leaves it does not expect.
"""

from __future__ import annotations

import ast
import builtins
import ctypes
import importlib.abc
import importlib.util
import inspect
import os
import resource
import select
import signal
import sys
import time
import traceback
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
FRAME_CAP = 320 << 20  # bytes read from one case before it is stopped: more than any answer the judge takes
PEAK_LEAF = "$peak_bytes"  # the answer leaf holding the measured peak, see the module docstring

# Taken when this file loads, before any candidate code exists: the builtin exception
# classes by identity, so a class the candidate names "ValueError" is not one.
_type = type
_BUILTIN_EXCEPTIONS = {id(c): n for n, c in vars(builtins).items() if isinstance(c, type) and issubclass(c, BaseException)}
_KEEP_ALIVE = [c for c in vars(builtins).values() if isinstance(c, type) and issubclass(c, BaseException)]


def exception_code(exc: BaseException) -> str:
    """The nearest builtin exception class of ``exc`` (``ValueError`` for a subclass of
    it), found by identity, never by a name the candidate chose."""
    for klass in _type(exc).__mro__:
        name = _BUILTIN_EXCEPTIONS.get(id(klass))
        if name:
            return name
    return "BaseException"


def _load_sibling(name: str):
    spec = importlib.util.spec_from_file_location(f"_mhajudge_{name}", os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ForbiddenImport(ImportError):
    pass


class ImportGuard(importlib.abc.MetaPathFinder):
    """Refuses banned top-level modules, however they are imported."""

    def __init__(self, forbidden):
        self.forbidden = frozenset(forbidden)
        self.attempts: list[str] = []

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.forbidden:
            self.attempts.append(fullname)
            raise ForbiddenImport(f"import of '{fullname}' is not allowed here: solve it with NumPy", name=fullname)
        return None


def static_forbidden(tree: ast.AST, forbidden) -> tuple[str, int] | None:
    """The first banned import written in the source, with its line."""
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        for name in names:
            if name.partition(".")[0] in forbidden:
                return name, node.lineno
    return None


def _candidate_line(tb, filename: str) -> int | None:
    line = None
    for frame in traceback.extract_tb(tb):
        if frame.filename == filename:
            line = frame.lineno
    return line


def _describe_exception(exc: BaseException, filename: str) -> dict:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    where = ""
    if frames:
        f = frames[-1]
        where = f" (line {f.lineno}: {(f.line or '').strip()[:80]})"
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - a candidate's __str__ may raise
        text = "(the exception's message could not be read)"
    if len(text) > 500:
        text = text[:500] + "..."
    return {"type": _type(exc).__name__, "code": exception_code(exc), "text": text, "where": where,
            "line": frames[-1].lineno if frames else None}


def with_generators(value):
    """``{"$rng": seed}`` anywhere in the inputs becomes ``np.random.default_rng(seed)``.

    The wire sends such a marker as a plain dict, so the child makes the generators
    itself, a fresh one per marker (e.g. one per item of a ``repeat`` program's ``vary``).
    """
    if isinstance(value, dict):
        if set(value) == {"$rng"}:
            import numpy as np

            return np.random.default_rng(value["$rng"])
        return {k: with_generators(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_generators(v) for v in value]
    if isinstance(value, tuple):
        return tuple(with_generators(v) for v in value)
    return value


def call_program(fn, kind: str, inputs: dict, answer_error=TypeError, describe="") -> list:
    """Call ``fn`` as the program says; the raw return value of each call."""
    args, kwargs = inputs.get("args", []), inputs.get("kwargs", {})
    if kind == "call":
        return [fn(*args, **kwargs)]
    if kind == "repeat":
        return [fn(*args, **{**kwargs, **extra}) for extra in inputs["vary"]]
    if kind == "steps":
        results, prev = [], None
        for step in inputs["steps"]:
            step_args = [prev[a["$prev"]] if isinstance(a, dict) and "$prev" in a else a
                         for a in step["args"]]
            prev = fn(*step_args, **step.get("kwargs", {}))
            if not isinstance(prev, (tuple, list)):
                raise answer_error(f"step {len(results)} returned a {type(prev).__name__}, "
                                f"expected a tuple {describe}")
            results.append(prev)
        return results
    raise ValueError(f"unknown program kind {kind!r}")


def median_time(call, budget: float = 0.02, most: int = 5, first: float | None = None) -> float:
    """A steady time for ``call()``: the median of up to ``most`` timings within
    ``budget`` seconds (``first`` is one already taken). Used for the candidate
    here and for the reference in the judge, so both are timed alike. Once one
    timing exists, a repeat that raises ends the repeats (their results are unused).
    """
    times = [] if first is None else [first]
    while not times or (len(times) < most and sum(times) < budget):
        start = time.perf_counter()
        try:
            call()
        except BaseException:
            if not times:
                raise
            break
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def step_leaf(step: int, name: str) -> str:
    """The name of leaf ``name`` of step ``step`` in a ``steps`` answer."""
    return f"step {step} {name}"


def shape_answer(results: list, kind: str, tree, answers) -> dict:
    """Flatten each result along ``tree``; stack them for repeat, name them per step for steps."""
    import numpy as np

    flats = [answers.flatten(r, tree) for r in results]
    if kind == "call":
        return flats[0]
    if kind == "steps":
        return {step_leaf(k, name): value for k, flat in enumerate(flats) for name, value in flat.items()}
    stacked = {}
    for name in flats[0]:
        parts = [f[name] for f in flats]
        if len({p.shape for p in parts}) != 1:
            shapes = ", ".join(sorted({str(p.shape) for p in parts}))
            raise answers.AnswerError(f"{name}: the shape changes from call to call: {shapes}")
        stacked[name] = np.stack(parts)
    return stacked


class Child:
    """The trusted zygote: it never runs candidate code itself.

    It compiles and screens the source, then forks once per case; the candidate
    is imported (executed) only inside each forked grandchild, which has already
    closed the channels to the judge. So code that runs at import time cannot
    forge frames, tamper with the zygote, or leak state into the next case.
    """

    def __init__(self, cmd_fd: int, result_fd: int):
        import numpy  # noqa: F401 - loaded once here, shared by every fork

        self.cmd_fd = cmd_fd
        self.result_fd = result_fd
        self.wire = _load_sibling("wire")
        self.answers = _load_sibling("answers")
        self.functions: dict = {}
        self.guard: ImportGuard | None = None
        self.filename = ""
        self.code = None
        self.forbidden: list[str] = []
        self.entry_points: list[dict] = []
        self.base_cpu_s = 0.0       # the CPU time of a grandchild that does nothing
        self.reaped = [0.0, 0]      # CPU seconds and peak bytes of the processes reaped after a case

    # -- io ----------------------------------------------------------------
    def send(self, msg: dict, payload=None) -> None:
        self.wire.write_frame(self.result_fd, self.wire.pack(msg, payload))

    def receive(self):
        import numpy as np

        return self.wire.read_frame(self.cmd_fd, 1 << 34, make_rng=np.random.default_rng)

    # -- loading -------------------------------------------------------------
    def load(self, msg: dict) -> None:
        """Compile and screen the source here; import it in a probe fork."""
        self.filename = filename = msg["file"]
        self.forbidden = msg["forbidden"]
        self.entry_points = msg["entry_points"]
        source = msg["source"].encode("utf-8", "surrogateescape")
        try:
            tree = ast.parse(source, filename)
            self.code = compile(tree, filename, "exec")
        except (SyntaxError, ValueError) as exc:
            kind = type(exc).__name__
            line = getattr(exc, "lineno", None)
            text = (getattr(exc, "text", None) or "").rstrip()
            pointer = f"\n    {text}" if text else ""
            return self.send({"op": "load-failed", "verdict": "load-error", "line": line,
                              "message": f"{kind} at line {line}: {getattr(exc, 'msg', exc)}{pointer}"})
        found = static_forbidden(tree, self.forbidden)
        if found:
            name, line = found
            return self.send({"op": "load-failed", "verdict": "forbidden", "line": line,
                              "message": f"line {line} imports '{name}', which is not allowed: "
                                         f"solve the problem with NumPy and the standard library"})
        out = self.in_fork(self.probe, float(msg.get("time_limit", 20.0)))
        out.pop("payload", None)
        self.send({"op": "probe", **out})  # the probe's reply is the candidate's: the judge vets it

    def import_candidate(self) -> dict | None:
        """In a grandchild: execute the candidate's module; a load-failed reply or None."""
        filename = self.filename
        self.guard = ImportGuard(self.forbidden)
        sys.meta_path.insert(0, self.guard)
        module = type(sys)("candidate")
        module.__file__ = filename
        sys.modules["candidate"] = module
        try:
            exec(self.code, module.__dict__)
        except ForbiddenImport as exc:
            return {"status": "load-failed", "verdict": "forbidden", "message": str(exc), "module": exc.name,
                    "line": _candidate_line(exc.__traceback__, filename)}
        except MemoryError:
            return {"status": "load-failed", "verdict": "memory-limit", "line": None,
                    "message": "ran out of memory while importing the file"}
        except SystemExit as exc:
            return {"status": "load-failed", "verdict": "load-error", "line": None,
                    "message": f"the file called sys.exit({exc.code!r}) while being imported"}
        except BaseException as exc:  # noqa: BLE001 - anything at import is a load error
            d = _describe_exception(exc, filename)
            return {"status": "load-failed", "verdict": "load-error", "line": d["line"],
                    "message": f"importing the file raised {d['type']}: {d['text']}{d['where']}"}
        if self.guard.attempts:
            return {"status": "load-failed", "verdict": "forbidden", "line": None, "module": self.guard.attempts[0],
                    "message": f"tried to import '{self.guard.attempts[0]}', which is not allowed"}
        self.functions = {}
        self.missing = {}
        for ep in self.entry_points:
            name, params = ep["name"], ep["params"]
            fn = module.__dict__.get(name)
            expected = f"{name}({', '.join(params)})"
            if fn is None:
                self.missing[name] = f"no function named `{name}`; expected `def {expected}:`"
                continue
            if not callable(fn):
                self.missing[name] = f"`{name}` is a {type(fn).__name__}, not a function; expected `def {expected}:`"
                continue
            try:
                sig = inspect.signature(fn)
            except (TypeError, ValueError):
                sig = None
            if sig is not None:
                required = [p.split("=")[0] for p in params if "=" not in p]
                optional = {p.split("=")[0]: None for p in params if "=" in p}
                try:
                    sig.bind(*required, **optional)
                except TypeError:
                    self.missing[name] = (f"`{name}{sig}` does not match the expected signature "
                                          f"`{expected}` (argument names and count matter)")
                    continue
            self.functions[name] = fn
        return None

    def probe(self):
        failed = self.import_candidate()
        if failed:
            return failed, None
        return {"status": "loaded", "missing": self.missing}, None

    def run_one(self, program: dict, inputs):
        failed = self.import_candidate()
        if failed:
            return {"status": "runtime-error", "message": f"the file no longer imports: {failed['message']}"}, None
        return self.execute(program, inputs)

    # -- running ---------------------------------------------------------------
    def in_fork(self, work, limit: float, baseline: bool = False) -> dict:
        """Run ``work()`` in a forked grandchild: ``{"reply", "payload", "ended", "measured"}``.

        Everything the grandchild sends (``reply`` and ``payload``) is the candidate's
        to forge: candidate code runs in that process and can find the marker and the
        pipe. The judge reads it as hostile input. What this trusted process observed
        from outside is in ``ended`` (set when no reply came: a kill, an exit, the time
        limit) and ``measured`` (wall clock, the CPU time and peak resident memory of
        the grandchild and of every process below it, from ``wait4``). With
        ``baseline``, a grandchild that does nothing is measured first, so the judge
        can subtract what a fork costs.
        """
        measured = {"base_cpu_s": self.base_cpu_s}
        if baseline:
            measured["base_rss_bytes"] = self._null_fork()[1]
        r, w = os.pipe()
        marker = os.urandom(16)
        self.reaped = [0.0, 0]
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # grandchild: from here on, candidate code may run
            os.close(r)
            os.close(self.cmd_fd)  # the candidate cannot talk to the judge directly
            os.close(self.result_fd)
            try:
                os.setpgid(0, 0)
                reply, payload = work()
                frame = self.wire.pack(reply, payload)
            except MemoryError:
                frame = self.wire.pack({"status": "memory-limit", "message": "ran out of memory"})
            except BaseException as exc:  # noqa: BLE001
                frame = self.wire.pack({"status": "runtime-error",
                                        "message": f"the answer could not be sent: {exc!r}"[:500]})
            try:
                self.wire.write_frame(w, marker + frame)
            finally:
                os._exit(0)
        os.close(w)
        try:
            out = self._collect(r, pid, marker, start, limit)
        finally:
            os.close(r)
            self._reap_all()
        cpu, rss = out.pop("usage")
        measured.update(wall_s=out.pop("wall_s"), cpu_s=cpu + self.reaped[0], rss_bytes=max(rss, self.reaped[1]))
        out["measured"] = measured
        return out

    def run_case(self, msg: dict, inputs) -> None:
        """Fork, import and run the program in the grandchild, relay what came back."""
        limit = float(msg.get("time_limit", 10.0))
        program = msg["program"]
        out = self.in_fork(lambda: self.run_one(program, inputs), limit, baseline=bool(program.get("memory")))
        payload = out.pop("payload", None)
        self.send({"op": "result", "id": msg["id"], **out}, payload)

    def _collect(self, r: int, pid: int, marker: bytes, start: float, limit: float) -> dict:
        """Read the grandchild's marked frame, or kill it when time runs out."""
        data = bytearray()
        deadline = start + limit
        exited = None
        out: dict = {"reply": None}
        while (frame := self._find_frame(data, marker)) is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                out["ended"] = {"status": "time-limit", "limit_s": limit}
                break
            ready, _, _ = select.select([r], [], [], min(left, 0.05))
            if ready:
                chunk = os.read(r, 1 << 20)
                if chunk and len(data) < FRAME_CAP:
                    data += chunk
                    continue
                if chunk:  # far more than any answer: stop reading, it will be killed
                    out["ended"] = {"status": "runtime-error", "why": "flood"}
                    break
            if exited is not None:
                break  # it has ended and nothing more came: no frame
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                exited = (status, usage)  # look once more: its frame may have landed after the select
        out["wall_s"] = time.perf_counter() - start
        if exited is None:  # a reply, a flood or the time limit: the grandchild goes now
            self._kill(pid)
            _, status, usage = os.wait4(pid, 0)
            exited = (status, usage)
        status, usage = exited
        out["usage"] = (usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)
        if frame is not None:
            try:
                reply, payload = self.wire.unpack(frame)
            except Exception as exc:  # noqa: BLE001
                out["ended"] = {"status": "runtime-error", "why": "unreadable", "error": str(exc)[:300]}
                return out
            out["reply"] = reply
            if payload is not None:
                out["payload"] = payload
            return out
        if "ended" not in out:
            if os.WIFSIGNALED(status):
                out["ended"] = {"status": "signal", "signal": os.WTERMSIG(status)}
            else:
                out["ended"] = {"status": "exited", "code": os.WEXITSTATUS(status)}
        return out

    def _find_frame(self, data, marker: bytes):
        """The complete frame after ``marker`` in ``data``, or None."""
        at = data.find(marker)
        if at < 0:
            return None
        frame = bytes(data[at + len(marker):])
        size = self.wire.frame_size(frame)
        return frame if size is not None and len(frame) >= size else None

    @staticmethod
    def _kill(pid: int) -> None:
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass

    def _null_fork(self) -> tuple[float, int]:
        """What a grandchild that does nothing costs: CPU seconds and peak resident bytes."""
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        _, _, usage = os.wait4(pid, 0)
        return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024

    def _reap_all(self) -> None:
        reap_all(self.reaped)

    def execute(self, program: dict, inputs):
        """Run a program in the grandchild; returns ``(reply, flat answer)``."""
        fn = self.functions[program["fn"]]
        tree = program["returns"]
        kind = program.get("kind", "call")
        memory = bool(program.get("memory"))
        inputs = with_generators(inputs)
        if memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        try:
            results = call_program(fn, kind, inputs, self.answers.AnswerError, self.answers.describe(tree))
            elapsed = time.perf_counter() - t0
        except self.answers.AnswerError as exc:
            return {"status": "bad-answer", "message": str(exc)}, None
        except ForbiddenImport as exc:
            return {"status": "forbidden", "module": exc.name, "message": str(exc)}, None
        except MemoryError:
            return {"status": "memory-limit", "message": "ran out of memory (MemoryError)"}, None
        except RecursionError as exc:
            d = _describe_exception(exc, self.filename)
            return {"status": "runtime-error", "exception": "RecursionError",
                    "message": f"RecursionError: maximum recursion depth exceeded{d['where']}"}, None
        except SystemExit as exc:
            return {"status": "runtime-error", "exception": "SystemExit",
                    "message": f"the function called sys.exit({exc.code!r})"}, None
        except BaseException as exc:  # noqa: BLE001
            d = _describe_exception(exc, self.filename)
            return {"status": "raised", "exception": d["code"],
                    "message": f"{d['type']}: {d['text']}{d['where']}"}, None
        reply = {"status": "ok", "time_s": elapsed}
        if memory:
            if not tracemalloc.is_tracing():
                return {"status": "forbidden", "message": "the code stopped the judge's memory measurement "
                                                          "(tracemalloc), which is not allowed"}, None
            reply["peak_bytes"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if self.guard is not None and self.guard.attempts:
            return {"status": "forbidden", "module": self.guard.attempts[0],
                    "message": f"tried to import '{self.guard.attempts[0]}', which is not allowed"}, None
        try:
            answer = shape_answer(results, kind, tree, self.answers)  # copies: later calls cannot alter it
        except self.answers.AnswerError as exc:
            return {"status": "bad-answer", "message": str(exc)}, None
        if kind == "call" and not memory:
            timing = program.get("timing", {})
            args, kwargs = inputs.get("args", []), inputs.get("kwargs", {})
            reply["time_s"] = median_time(lambda: fn(*args, **kwargs), timing.get("budget", 0.02),
                                          timing.get("most", 5), first=elapsed)
        return reply, answer

    def serve(self) -> None:
        import gc

        gc.freeze()  # forks then do not copy pages just because the collector walked them
        self.base_cpu_s = min(self._null_fork()[0] for _ in range(3))
        while True:
            try:
                msg, payload = self.receive()
            except EOFError:
                return
            op = msg.get("op")
            if op == "load":
                self.load(msg)
            elif op == "case":
                self.run_case(msg, payload)
            elif op == "exit":
                return


def reap_all(reaped: list | None = None) -> None:
    """Kill and reap every process still below us after a case, adding what each
    used to ``reaped`` (CPU seconds, the largest peak resident bytes).

    This process is a subreaper: what the case started, even detached with
    setsid or a double fork, has become our direct child once its parent died.
    """
    path = f"/proc/{os.getpid()}/task/{os.getpid()}/children"
    for _ in range(20):
        try:
            with open(path) as f:
                kids = [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            kids = []
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for k in kids:
            _account(k, 0, reaped)
        while _account(-1, os.WNOHANG, reaped):  # zombies left by earlier cases
            pass
        if not kids:
            return


def _account(pid: int, options: int, reaped: list | None) -> bool:
    """Reap ``pid`` (or any child), adding what it used to ``reaped``."""
    try:
        done, _, usage = os.wait4(pid, options)
    except ChildProcessError:
        return False
    if done and reaped is not None:
        reaped[0] += usage.ru_utime + usage.ru_stime
        reaped[1] = max(reaped[1], usage.ru_maxrss * 1024)
    return bool(done)


def set_limits(memory_bytes: int, nproc: int) -> None:
    """Before any candidate code runs: cap the address space and processes, no core dumps."""
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if nproc > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# Loaded before privileges are dropped, in case the new uid cannot read them.
PRELOAD = ("math", "functools", "itertools", "collections", "typing", "dataclasses", "random",
           "heapq", "bisect", "operator", "copy", "numbers", "statistics", "time", "json")


def drop_privileges(uid: int) -> None:
    """Become ``uid`` for good (when started as root), after loading what we need."""
    import importlib

    for name in PRELOAD + ("numpy.random", "numpy.linalg", "numpy.fft"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def become_subreaper() -> None:
    """Orphans of the candidate's processes stay below this one (Linux), so the
    judge finds and kills them even after a setsid or a double fork."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def stop_everything(own_uid: bool, folder: str) -> None:
    """The judge is gone or asked us to stop: kill all the candidate started, remove
    the case folder, exit. With a uid of our own, ``kill(-1)`` reaches every process
    of that uid, however detached; otherwise what is below us (we are a subreaper)."""
    if own_uid:
        try:
            os.kill(-1, signal.SIGKILL)  # every process of this uid but this one
        except OSError:
            pass
    reap_all()
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    os._exit(0)


def main() -> None:
    argv = sys.argv[1:] + [""] * 8
    cmd_fd, result_fd = int(argv[0]), int(argv[1])
    memory, uid, nproc = int(argv[2] or 0), int(argv[3] or -1), int(argv[4] or 0)
    parent, folder = int(argv[5] or 0), argv[6]
    set_limits(memory, nproc)
    become_subreaper()
    _prctl(4, 0)  # PR_SET_DUMPABLE 0: no process of our uid may ptrace us or open our /proc files
    own_uid = uid >= 0 and os.geteuid() == 0
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop_everything(own_uid, folder))
    if parent:  # if the judge dies (even by SIGKILL), we hear SIGTERM and clean up
        _prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:
            stop_everything(False, folder)
    # A candidate's prints go to stdout/stderr, which the judge caps and ignores.
    child = Child(cmd_fd, result_fd)
    if own_uid:
        drop_privileges(uid)
        _prctl(4, 0)  # a change of uid resets it
    child.serve()
    stop_everything(own_uid, folder)


if __name__ == "__main__":
    main()
