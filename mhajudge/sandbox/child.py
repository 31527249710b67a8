"""The sandboxed child: the trusted zygote that imports the candidate in forks.

Run as a script (``python -I child.py CMD_FD RESULT_FD ...``), never imported by the
candidate's process as part of the ``mhajudge`` package: the package is not in
``sys.modules`` here, so an ``import mhajudge`` by the candidate is caught by the
import guard like any other banned module. Its siblings (wire, answers, programs,
guard, fork) are loaded by path. The protocol it speaks is in :mod:`mhajudge.sandbox`.
"""

from __future__ import annotations

import ast
import ctypes
import importlib.util
import inspect
import os
import resource
import signal
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
SPARE_FRAME_BYTES = 4 << 20  # a case's frame larger than this is decoded here, not piped to a spare

def _load_sibling(name: str):
    spec = importlib.util.spec_from_file_location(f"_mhajudge_{name}", os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The child's own modules, loaded by path (the mhajudge package is not importable here).
# programs first: it takes the builtin exception classes before any candidate code runs
# (and loads models, the judge's functions built from arrays, beside it).
programs = _load_sibling("programs")
guard = _load_sibling("guard")
fork = _load_sibling("fork")
ForbiddenImport, ImportGuard = guard.ForbiddenImport, guard.ImportGuard


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
        self.tracing = _load_sibling("tracing")
        # A spare fills free memory with NaN while it waits (see _execute), so the
        # copy-on-write faults of that come before its case, not inside it.
        self.forker = fork.Forker(self.wire, (cmd_fd, result_fd), prepare=programs.poison_free_memory,
                                  channel=programs.serving.CHANNEL)
        self.functions: dict = {}
        self.guard: ImportGuard | None = None
        self.filename = ""
        self.code = None
        self.forbidden: list[str] = []
        self.entry_points: list[dict] = []
        self.torch = None  # the torch track's module (torch_track.py), for a file on that track
        self.code_loaded = False  # a load was received (its track is then this child's)
        self.preloaded_banned: list[str] = []

    # -- io ----------------------------------------------------------------
    def send(self, msg: dict, payload=None) -> None:
        self.wire.write_frame(self.result_fd, self.wire.pack(msg, payload))

    def receive(self):
        """The next message and its whole frame (a case's inputs are decoded where it runs)."""
        return self.wire.read_raw_frame(self.cmd_fd, 1 << 34)

    # -- loading -------------------------------------------------------------
    def load(self, msg: dict) -> None:
        """Compile and screen the source here; import it in a probe fork."""
        self.filename = filename = msg["file"]
        self.forbidden = msg["forbidden"]
        self.entry_points = msg["entry_points"]
        self.code = None  # a second load (a save in --watch) that fails leaves no earlier code to run
        self.forker.drop_spare()  # forked with the earlier code
        source = msg["source"].encode("utf-8", "surrogateescape")
        if (msg.get("track") == "torch") != (self.torch is not None) and self.code_loaded:
            # The judge starts a new child when a file changes track; a child never switches.
            return self.send({"op": "load-failed", "verdict": "load-error", "line": None,
                              "message": "this sandbox was started for the other track"})
        self.code_loaded = True
        if msg.get("track") == "torch" and self.torch is None:  # torch imported and banned here, once, before any fork
            self.torch = _load_sibling("torch_track")
            why = self.torch.setup(msg.get("torch_forbidden", []))
            if why:
                return self.send({"op": "load-failed", "verdict": "load-error", "line": None, "message": why})
            import gc

            gc.freeze()  # torch's objects too: a case's fork then does not copy their pages
            fork.collapse_to_huge_pages()  # a case's fork and exit: 7 ms, not 40 (see there)
            self.forker.calibrate()  # an empty fork of this larger process costs more
        import linecache

        # Tracebacks quote the candidate's lines from here: the file itself may not be in
        # this view (isolated), may differ (a notebook's cells, grade's vetted bytes).
        linecache.cache[filename] = (len(msg["source"]), None, msg["source"].splitlines(True), filename)
        undecodable = _undecodable(source)
        if undecodable:  # compile() lets a bad byte in a comment pass; `python FILE` does not
            line, message = undecodable
            return self.send({"op": "load-failed", "verdict": "load-error", "line": line, "message": message})
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
        except (RecursionError, MemoryError) as exc:  # 240 KB of `1 + 1 + ...`: too deep to compile
            return self.send({"op": "load-failed", "verdict": "load-error", "line": None,
                              "message": f"the file is nested too deeply for Python to compile it "
                                         f"({type(exc).__name__})"})
        if not tree.body:  # nothing but blanks and comments: say so, not "no function named ..."
            wanted = ", ".join(f"`def {ep['name']}({', '.join(ep['params'])}):`" for ep in self.entry_points)
            return self.send({"op": "load-failed", "verdict": "load-error", "line": None,
                              "message": f"the file is empty (no code, at most comments); expected {wanted}"})
        # Banned modules this process loaded for itself (tracemalloc): listed once here, and
        # dropped from sys.modules in each case's process, so an import there meets the guard.
        banned = frozenset(self.forbidden)
        self.preloaded_banned = [m for m in sys.modules if m.partition(".")[0] in banned]
        found = guard.static_forbidden(tree, self.forbidden)
        if found:
            name, line = found
            return self.send({"op": "load-failed", "verdict": "forbidden", "line": line,
                              "message": f"line {line} imports '{name}', which is not allowed: "
                                         f"solve the problem with NumPy and the standard library"})
        out = self.forker.run(self.probe, float(msg.get("time_limit", 20.0)))
        out.pop("payload", None)
        self.send({"op": "probe", **out})  # the probe's reply is the candidate's: the judge vets it
        self.forker.fork_spare(self.serve_case)  # the first case's process, while the judge reads that

    def import_candidate(self, check_signatures: bool = True) -> dict | None:
        """In a grandchild: execute the candidate's module; a load-failed reply or None.

        ``check_signatures``: the probe checks each entry point's signature and reports
        what is missing; a case's process only needs the functions (0.4 ms saved per case).
        """
        filename = self.filename
        if self.code is None:
            return {"status": "load-failed", "verdict": "load-error", "line": None, "message": "no code is loaded"}
        self.guard = ImportGuard(self.forbidden)
        sys.meta_path.insert(0, self.guard)
        if self.torch is not None:
            self.torch.install_module_guard()
        for name in self.preloaded_banned:
            sys.modules.pop(name, None)  # loaded by this child for itself: an import must meet the guard
        module = type(sys)("candidate")
        module.__file__ = filename
        sys.modules["candidate"] = module
        try:
            exec(self.code, module.__dict__)
        except ForbiddenImport as exc:
            return {"status": "load-failed", "verdict": "forbidden", "message": str(exc), "module": exc.name,
                    "line": programs.candidate_line(exc.__traceback__, filename)}
        except MemoryError:
            return {"status": "load-failed", "verdict": "memory-limit", "line": None,
                    "message": "ran out of memory while importing the file"}
        except SystemExit as exc:
            return {"status": "load-failed", "verdict": "load-error", "line": None,
                    "message": f"the file called sys.exit({exc.code!r}) while being imported"}
        except BaseException as exc:  # noqa: BLE001 - anything at import is a load error
            d = programs.describe_exception(exc, filename)
            return {"status": "load-failed", "verdict": "load-error", "line": d["line"],
                    "message": f"importing the file raised {d['said']}{d['where']}"}
        if self.torch is not None and self.torch.ATTEMPTS:
            return {"status": "load-failed", "verdict": "forbidden", "line": None, "call": self.torch.ATTEMPTS[0],
                    "message": f"called '{self.torch.ATTEMPTS[0]}' while being imported, which is not allowed"}
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
                kind = type(fn).__name__
                article = "an" if kind[:1].lower() in "aeiou" else "a"
                self.missing[name] = f"`{name}` is {article} {kind}, not a function; expected `def {expected}:`"
                continue
            if not check_signatures:
                self.functions[name] = fn
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
        failed = self.import_candidate(check_signatures=False)
        if failed:
            return {"status": "runtime-error", "message": f"the file no longer imports: {failed['message']}"}, None
        if program["fn"] not in self.functions:  # defined at the probe, not in this import
            return {"status": "runtime-error", "message": f"`{program['fn']}` is not a function after this import"}, None
        return self.execute(program, inputs)

    # -- running ---------------------------------------------------------------
    def run_case(self, msg: dict, frame: bytes) -> None:
        """Run the program in a case's process (import, call), relay what came back.

        Most cases go to the spare forked while the judge checked the last answer
        (it decodes the frame itself). A memory-measured case, or one with large
        inputs, is forked afresh after the inputs are decoded here: its process's
        peak is then measured against an empty fork's, as the judge's bounds expect.
        A case whose inputs hold the judge's models (``"models"`` in ``msg``) goes to
        the spare with the models taken out; this process answers their calls
        (:mod:`.serving`).
        """
        limit = float(msg.get("time_limit", 10.0))
        program = msg["program"]
        memory = bool(program.get("memory"))
        if msg.get("models"):
            out = self.run_served(frame, limit)
        elif programs.timed(program):
            out = self.run_timed(frame, limit)
        elif memory or len(frame) > SPARE_FRAME_BYTES:
            _, inputs = self.wire.unpack(frame)
            out = self.forker.run(lambda: self.run_one(program, inputs), limit, baseline=memory)
        else:
            out = self.forker.run_sent(frame, limit, self.serve_case)
        payload = out.pop("payload", None)
        self.send({"op": "result", "id": msg["id"], **out}, payload)
        if self.forker.spare is None or self.forker.spare_died():
            # The next case's process, forked now, while the judge reads this and before
            # the next case's frame is in this process (see serving.py).
            self.forker.fork_spare(self.serve_case)

    def run_served(self, frame: bytes, limit: float) -> dict:
        """A case with the judge's models: its frame, markers out, to the spare (which
        was forked before this frame came, so it never held the weights); their calls
        are answered here and counted. Called once per call, not timed by repeats."""
        header, inputs = self.wire.unpack(frame)
        markers: list = []
        inputs = programs.serving.strip(inputs, markers)
        header["program"] = {**header["program"], "timing": {"most": 1}}  # a repeat would add to the counts
        return self.forker.run_sent(self.wire.pack(header, inputs), limit, self.serve_case,
                                    server=lambda sock: programs.serving.Server(sock, markers))

    def run_timed(self, frame: bytes, limit: float) -> dict:
        """A timed steps program: its steps out of the frame, handed to the case's process
        one at a time from here and timed here (:class:`.serving.Driver`); the answer is
        what came back for each step, and only if every step was answered in turn."""
        header, inputs = self.wire.unpack(frame)
        steps, inputs["steps"] = inputs["steps"], programs.DRIVEN
        inputs["args"], inputs["kwargs"] = [], {}  # the first step's, as a draft names them: not ahead of time
        drivers: list = []

        def driver(sock):
            drivers.append(programs.serving.Driver(sock, steps, self.wire))
            return drivers[-1]

        out = self.forker.run_sent(self.wire.pack(header, inputs), limit, self.serve_case, server=driver)
        out.pop("payload", None)  # the case's process sends none; whatever it sent is not the answer
        reply = out.get("reply")
        if "ended" in out or not isinstance(reply, dict) or reply.get("status") != "ok":
            return out
        if not drivers or not drivers[0].complete:
            return {"reply": None, "ended": {"status": "runtime-error", "why": "steps"}, "measured": out["measured"]}
        out["payload"] = drivers[0].payload()
        return out

    def serve_case(self, msg: dict, inputs):
        """In a spare: its case, as handed over."""
        return self.run_one(msg["program"], inputs)

    def execute(self, program: dict, inputs):
        """Run a program in the grandchild; returns ``(reply, flat answer)``."""
        reply, answer = self._execute(program, inputs)
        if self.torch is not None and self.torch.ATTEMPTS:  # caught or not, a banned call is the verdict
            return {"status": "forbidden", "call": self.torch.ATTEMPTS[0],
                    "message": f"called '{self.torch.ATTEMPTS[0]}', which is not allowed "
                                                      "on the torch track: write it from scratch"}, None
        return reply, answer

    def _execute(self, program: dict, inputs):
        fn = self.functions[program["fn"]]
        tree = program["returns"]
        kind = program.get("kind", "call")
        memory = bool(program.get("memory"))
        if self.torch is not None:
            inputs = self.torch.call_inputs(inputs, self._params(program["fn"]))
        inputs = programs.with_generators(inputs)
        if kind != "repeat":  # np.empty read before written shows NaN, whatever the heap's history
            programs.poison_free_memory()
        if program.get("trace") is not None and kind == "call":  # for diagnosis only: see tracing.py
            return self.tracing.run_traced(fn, inputs, self.filename, program["trace"])
        if memory:
            tracemalloc.start()
        t0 = time.perf_counter()
        try:
            driven = self._driven(tree, self._params(program["fn"])) if programs.timed(program) else None
            results = programs.call_program(fn, kind, inputs, self.answers.AnswerError, self.answers.describe(tree),
                                            driven=driven)
            elapsed = time.perf_counter() - t0
            if self.torch is not None:
                results = self.torch.to_numpy(results, self.answers.AnswerError)
        except self.answers.AnswerError as exc:
            return {"status": "bad-answer", "message": str(exc)}, None
        except ForbiddenImport as exc:
            return {"status": "forbidden", "module": exc.name, "message": str(exc)}, None
        except MemoryError:
            return {"status": "memory-limit", "message": "ran out of memory (MemoryError)"}, None
        except RecursionError as exc:
            d = programs.describe_exception(exc, self.filename)
            return {"status": "runtime-error", "exception": "RecursionError",
                    "message": f"RecursionError: maximum recursion depth exceeded{d['where']}"}, None
        except SystemExit as exc:
            return {"status": "runtime-error", "exception": "SystemExit",
                    "message": f"the function called sys.exit({exc.code!r})"}, None
        except BaseException as exc:  # noqa: BLE001
            d = programs.describe_exception(exc, self.filename)
            return {"status": "raised", "exception": d["code"],
                    "message": f"{d['said']}{d['where']}"}, None
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
            # copies: later calls cannot alter it; a timed program's answers went over the socket as it ran
            answer = {} if programs.timed(program) else programs.shape_answer(results, kind, tree, self.answers)
        except self.answers.AnswerError as exc:
            return {"status": "bad-answer", "message": str(exc)}, None
        if kind == "call" and not memory:
            timing = program.get("timing", {})
            args, kwargs = inputs.get("args", []), inputs.get("kwargs", {})
            reply["time_s"] = programs.median_time(lambda: fn(*args, **kwargs), timing.get("budget", 0.02),
                                          timing.get("most", 5), first=elapsed)
        return reply, answer

    def _params(self, fn: str) -> list[str]:
        return next((ep["params"] for ep in self.entry_points if ep["name"] == fn), [])

    def _driven(self, tree, params: list[str]):
        """How a case's process takes a timed program's steps from this process (on the
        torch track, each step's inputs as tensors and its answer back as arrays)."""
        torch, error = self.torch, self.answers.AnswerError

        def flatten(result):
            return self.answers.flatten(torch.to_numpy(result, error) if torch is not None else result, tree)

        def convert(step):
            return step if torch is None else torch.call_inputs(
                {"args": step.get("args", []), "kwargs": step.get("kwargs", {})}, params)

        return lambda fn, step_args: programs.serving.driven_steps(fn, self.wire, flatten, step_args, convert)

    def serve(self) -> None:
        import gc

        gc.freeze()  # forks then do not copy pages just because the collector walked them
        self.forker.calibrate()
        while True:
            try:
                msg, frame = self.receive()
            except EOFError:
                return
            op = msg.get("op")
            if op == "load":
                self.load(msg)
            elif op == "case":
                self.run_case(msg, frame)
            elif op == "exit":
                return


def _undecodable(source: bytes) -> tuple[int, str] | None:
    """(line, message) when Python would refuse to read ``source`` as its encoding (PEP
    263: UTF-8 unless a coding line says otherwise), as ``python FILE`` says it."""
    import io
    import tokenize

    try:
        # Python reads a coding line of a file with CR line endings too; detect_encoding splits at LF only
        head = source[:4096].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        encoding, _ = tokenize.detect_encoding(io.BytesIO(head).readline)
    except SyntaxError as exc:
        if "invalid or missing encoding" not in str(exc):  # an unknown coding declared
            return 1, f"SyntaxError: {exc}"
        encoding = "utf-8"  # a first line that is not UTF-8, and no coding line: found below
    try:
        source.decode(encoding)
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        byte = source[exc.start:exc.start + 1]
        if encoding != "utf-8":
            return line, f"SyntaxError: the file declares {encoding}, but line {line} is not {encoding}"
        return line, (f"SyntaxError: Non-UTF-8 code starting with {byte!r:.8} on line {line}, but no encoding "
                      f"declared; save the file as UTF-8 (see PEP 263)")
    return None


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
    fork.reap_all()
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
