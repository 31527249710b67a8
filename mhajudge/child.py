"""The sandboxed child: imports the candidate once, then runs each case in a fork.

Run as a script (``python -I child.py CMD_FD RESULT_FD``), never imported by the
candidate's process as part of the ``mhajudge`` package: the package is not in
``sys.modules`` here, so an ``import mhajudge`` by the candidate is caught by
the import guard like any other banned module.

Protocol (frames of :mod:`wire`):

- judge -> child, first: ``{"op": "load", "file", "entry_points", "forbidden"}``;
  child -> judge: ``{"op": "loaded", "missing": {...}}`` or
  ``{"op": "load-failed", "verdict", "message", "line"}``.
- judge -> child, per case: ``{"op": "case", "id", "program"}`` with the inputs
  as payload; child -> judge: ``{"op": "result", "id", "status", ...}`` with the
  flattened answer as payload. The case runs in a forked grandchild; the child
  kills it past ``time_limit`` and reports ``time-limit`` itself.

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
during the calls (``tracemalloc``) is reported as ``peak_bytes`` and added to
the answer as the leaf ``$peak_bytes`` (an int64 scalar), which a problem's
custom check reads; the default comparison ignores leaves it does not expect.
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
PEAK_LEAF = "$peak_bytes"  # the answer leaf holding the measured peak, see the module docstring


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
            raise ForbiddenImport(f"import of '{fullname}' is not allowed here: solve it with NumPy")
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
    text = str(exc)
    if len(text) > 500:
        text = text[:500] + "..."
    return {"type": type(exc).__name__, "text": text, "where": where,
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
        reply = self.in_fork(self.probe, float(msg.get("time_limit", 20.0)))
        if reply.get("status") == "loaded":
            self.send({"op": "loaded", "missing": reply.get("missing", {})})
            return
        if reply.get("status") == "load-failed":
            self.send({"op": "load-failed", "verdict": reply.get("verdict", "load-error"),
                       "line": reply.get("line"), "message": reply.get("message", "")})
            return
        verdict = reply.get("status") if reply.get("status") in ("time-limit", "memory-limit") else "load-error"
        message = reply.get("message", "")
        if verdict == "time-limit":
            message = f"importing the file took more than {msg.get('time_limit', 20.0):g} s (is there a loop at the top level?)"
        self.send({"op": "load-failed", "verdict": verdict, "line": None,
                   "message": f"importing the file failed: {message}"})

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
            return {"status": "load-failed", "verdict": "forbidden", "message": str(exc),
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
            return {"status": "load-failed", "verdict": "forbidden", "line": None,
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
    def in_fork(self, work, limit: float) -> dict:
        """Run ``work()`` in a forked grandchild; its reply (with ``payload``), or a failure.

        The grandchild's frame starts with a fresh random marker; whatever else
        the candidate writes into that pipe (say, a fake report sprayed over every
        open descriptor) is skipped, so it cannot change the answer read back.
        """
        r, w = os.pipe()
        marker = os.urandom(16)
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
                                        "message": f"the answer could not be sent: {exc!r}"})
            try:
                self.wire.write_frame(w, marker + frame)
            finally:
                os._exit(0)
        os.close(w)
        try:
            return self._collect(r, pid, marker, start, limit)
        finally:
            os.close(r)
            self._reap_all()

    def run_case(self, msg: dict, inputs) -> None:
        """Fork, import and run the program in the grandchild, relay its answer."""
        limit = float(msg.get("time_limit", 10.0))
        reply = self.in_fork(lambda: self.run_one(msg["program"], inputs), limit)
        reply["id"] = msg["id"]
        reply["op"] = "result"
        payload = reply.pop("payload", None)
        self.send(reply, payload)

    def _collect(self, r: int, pid: int, marker: bytes, start: float, limit: float) -> dict:
        """Read the grandchild's marked frame, or kill it when time runs out."""
        data = bytearray()
        deadline = start + limit
        status = None
        while (frame := self._find_frame(data, marker)) is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                self._kill(pid)
                return {"status": "time-limit", "wall_s": limit,
                        "message": f"still running after {limit:g} s (an infinite loop, or far too slow)"}
            ready, _, _ = select.select([r], [], [], min(left, 0.05))
            if ready:
                chunk = os.read(r, 1 << 20)
                if chunk:
                    data += chunk
                    continue
            if status is not None:
                break  # it has ended and nothing more came: no frame
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st  # look once more: its frame may have landed after the select
        wall = time.perf_counter() - start
        if status is None:
            _, status = os.waitpid(pid, 0)
        self._kill(pid)
        if frame is not None:
            try:
                msg, payload = self.wire.unpack(frame)
            except Exception as exc:  # noqa: BLE001
                return {"status": "runtime-error", "wall_s": wall,
                        "message": f"the answer could not be read back: {exc}"}
            msg["wall_s"] = wall
            if payload is not None:
                msg["payload"] = payload
            return msg
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
            verdict = "memory-limit" if sig == signal.SIGKILL else "runtime-error"
            return {"status": verdict, "wall_s": wall,
                    "message": f"the process was killed by {name}"
                               + (" (a crash in native code)" if sig == signal.SIGSEGV else "")}
        code = os.WEXITSTATUS(status)
        return {"status": "runtime-error", "wall_s": wall,
                "message": f"the process exited (status {code}) before returning an answer; "
                           f"is there a sys.exit() or os._exit() in the code?"}

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
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass

    @staticmethod
    def _reap_all() -> None:
        """Kill and reap every process still below us after a case.

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
            while True:  # collect the dead (and zombies left by earlier cases)
                try:
                    done, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    done = 0
                if not done:
                    break
            if not kids:
                return

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
            return {"status": "forbidden", "message": str(exc)}, None
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
            return {"status": "raised", "exception": d["type"],
                    "message": f"{d['type']}: {d['text']}{d['where']}"}, None
        reply = {"status": "ok", "time_s": elapsed}
        if memory:
            if not tracemalloc.is_tracing():
                return {"status": "forbidden", "message": "the code stopped the judge's memory measurement "
                                                          "(tracemalloc), which is not allowed"}, None
            reply["peak_bytes"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        if self.guard is not None and self.guard.attempts:
            return {"status": "forbidden",
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
        if memory:
            import numpy as np

            answer[PEAK_LEAF] = np.asarray(reply["peak_bytes"], dtype=np.int64)
        return reply, answer

    def serve(self) -> None:
        import gc

        gc.freeze()  # forks then do not copy pages just because the collector walked them
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


def main() -> None:
    cmd_fd, result_fd = int(sys.argv[1]), int(sys.argv[2])
    memory = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    uid = int(sys.argv[4]) if len(sys.argv) > 4 else -1
    nproc = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    set_limits(memory, nproc)
    become_subreaper()
    # A candidate's prints go to stdout/stderr, which the judge caps and ignores.
    child = Child(cmd_fd, result_fd)
    if uid >= 0 and os.geteuid() == 0:
        drop_privileges(uid)
    child.serve()
    os._exit(0)


if __name__ == "__main__":
    main()
