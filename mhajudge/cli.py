"""The command line: a thin layer over the library (``mhajudge.judge`` and friends).

The commands live in :mod:`mhajudge.commands`; this module loads them and runs the
app. Exit codes (``../shared/CLI.md``): 0 accepted, 1 not accepted, 2 the judge
could not judge.
"""

from __future__ import annotations

import os
import sys



def load_app():
    """The Typer app, with every command registered on it."""
    from .commands import app
    # Each module registers its commands; --help lists them in this order (as mhajudge.quick's).
    from .commands import bank  # noqa: F401 - list, show, new
    from .commands import judging  # noqa: F401 - run, try
    from .commands import grading  # noqa: F401 - grade, merge
    from .commands import progress  # noqa: F401 - practice, history, stats
    from .commands import authoring  # noqa: F401 - validate

    return app


def main() -> None:
    """The ``mhajudge`` command: :func:`command_line`, then an exit without the
    interpreter's teardown (:func:`exit_now`). A caller that wants the ``SystemExit``
    instead, to go on in the same process, calls :func:`command_line`."""
    try:
        command_line()
    except SystemExit as exc:
        exit_now(exc.code)


def command_line() -> None:
    """Run the command in ``sys.argv``; ends in ``SystemExit`` with its exit code."""
    # One BLAS thread in the judge too: the reference's timings then compare with the
    # candidate's (which runs single-threaded), and parallel grading does not oversubscribe.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stopped)
    from .quick import answer

    code = answer(sys.argv[1:])  # --help, --version, list: without loading Typer
    if code is not None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # `mhajudge list | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(code)
    if sys.argv[1:2] == ["run"]:
        _prestart(sys.argv[2:])
    load_app()()
    sys.exit(0)  # Typer exits by itself; this only says so


def exit_now(code) -> None:
    """End the process as ``sys.exit(code)`` would, without tearing the interpreter down.

    Python's own exit frees every module and object one by one before the process ends
    (after a judging run, NumPy's, Rich's and the judge's: about 25 ms, more than a
    tenth of a cold ``run``), memory the system takes back at once anyway. What an exit
    must still do is done here, in Python's order: wait for the threads that are not
    daemons (where one still runs, the ordinary exit does it all), run the ``atexit``
    handlers (a started sandbox is closed there), and flush what was printed. A reader
    that went away (``mhajudge list | head``) is not an error: it has what it wanted.
    """
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as Python does with sys.exit("message")
        sys.stderr.write(f"{code}\n")
        status = 1
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(status)
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass
        except (OSError, ValueError, AttributeError):  # closed or replaced by a caller
            pass
    os._exit(status & 0xFF)  # as the system keeps an exit status


def _prestart(args: list[str]) -> None:
    """``run``: start the sandbox's child now, so that its interpreter and NumPy start
    while this process loads the command line, NumPy and the cases (see
    :func:`mhajudge.sandbox.runner.prestart`). Only where the run's isolation is plain
    from the arguments; the run itself decides everything and says what is wrong."""
    if "-h" in args or "--help" in args:
        return
    try:
        from .sandbox import isolation, runner

        choice = True if "--isolate" in args else False if "--no-isolate" in args else None
        isolate = isolation.resolve(choice, secret=bool(os.environ.get("MHAJUDGE_SECRET")), grading=False)
        runner.prestart(isolate=isolate)
    except Exception:  # noqa: BLE001 - the run starts its own child and reports any problem itself
        pass


def _stopped(signum, frame) -> None:
    """SIGTERM or SIGHUP (a closed terminal): close every sandbox, then exit at once.

    Each child also hears of the judge's death by itself (even a SIGKILL) and
    cleans up after its candidate, so nothing is left behind either way."""
    from .sandbox.runner import stop_all

    stop_all()
    try:
        sys.stderr.write(f"mhajudge: stopped by signal {signum}; every sandbox was closed\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(128 + signum)


if __name__ == "__main__":
    main()
