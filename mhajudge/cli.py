"""The command line: a thin layer over the library (``mhajudge.judge`` and friends).

The commands live in :mod:`mhajudge.commands`; this module loads them and runs the
app. Exit codes (``../shared/CLI.md``): 0 accepted, 1 not accepted, 2 the judge
could not judge.
"""

from __future__ import annotations

import os
import sys

from .commands import app  # noqa: F401 - the Typer app, with every command below registered on it
# Each module registers its commands; --help lists them in this order.
from .commands import bank  # noqa: E402,F401 - list, show, new
from .commands import judging  # noqa: E402,F401 - run
from .commands import grading  # noqa: E402,F401 - grade, merge
from .commands import progress  # noqa: E402,F401 - practice, history, stats
from .commands import authoring  # noqa: E402,F401 - validate


def main() -> None:
    # One BLAS thread in the judge too: the reference's timings then compare with the
    # candidate's (which runs single-threaded), and parallel grading does not oversubscribe.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stopped)
    app()


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
