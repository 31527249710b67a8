"""``mhajudge run FILE --watch``: judge now and again on every save.

Each round clears the screen, judges the sample cases and shows them at once, then
judges every case (samples and hidden) and shows the full report. A save during
the sample stage skips straight to the next round. Saves are seen by polling the
file's mtime, size and inode (no extra dependency; editors that save by renaming a
temporary file are seen too). Each full judgement is recorded in the history like a
``run``. Ctrl-C stops watching; the exit code is the last full verdict's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from rich.markup import escape

from .errors import JudgeError
from .practice import SETTLE_S, file_signature
from .untrusted import clean, shown_name

POLL_S = 0.2




def wait_for_save(file: Path, seen, *, signature: Callable = file_signature, sleep: Callable = time.sleep,
                  clock: Callable = time.monotonic, poll_s: float = POLL_S, settle_s: float = SETTLE_S):
    """Block until the file's signature differs from ``seen`` and has been still for
    ``settle_s``; returns the new signature."""
    while True:
        sig = signature(file)
        if sig is not None and sig != seen:
            since = clock()
            while clock() - since < settle_s:
                sleep(min(poll_s, settle_s))
                now = signature(file)
                if now != sig:
                    sig, since = now, clock()
            if sig is not None:
                return sig
        sleep(poll_s)


class Watch:
    """The rounds of a watch, without the waiting: tests call :meth:`round` directly."""

    def __init__(self, file, problem_id: str | None, console, *, hide: bool = False, no_record: bool = False,
                 judge: Callable | None = None, record: Callable | None = None,
                 signature: Callable = file_signature):
        self.file = Path(file)
        self.problem_id = problem_id
        self.console = console
        self.hide = hide
        self.no_record = no_record
        self.session = None  # without a judge given: a warm Session, closed when the watch ends
        self.judge = judge or self._warm_judge
        self.record = record or self._default_record
        self.signature = signature
        self.rounds = 0
        self.code = 1

    def _header(self) -> None:
        self.console.clear()
        self.console.print(f"[bold]watching {escape(shown_name(str(self.file)))}[/bold]  [dim]save #{self.rounds}, "
                           f"{time.strftime('%H:%M:%S')}[/dim]", soft_wrap=True)

    def _status(self, text: str) -> None:
        """The last line on screen: what happens next (long reports scroll the header away)."""
        self.console.print(f"[bold cyan]{text}[/bold cyan]  [dim](watching {escape(shown_name(str(self.file)))}; Ctrl-C stops)[/dim]",
                           soft_wrap=True)

    def round(self) -> int:
        """Judge the samples, show them; judge everything, show it, record it."""
        from .render import render_report

        self.rounds += 1
        seen = self.signature(self.file)
        self._header()
        self._status("judging the samples...")
        try:
            samples = self.judge(self.file, self.problem_id, "sample", self.hide)
        except JudgeError as exc:
            self._error(exc)
            return self.code
        self._header()
        render_report(samples, self.console, hide=self.hide)
        self._status("samples judged; judging the hidden cases...")
        if self.signature(self.file) != seen:
            return self.code  # saved again meanwhile: start over at once
        try:
            full = self.judge(self.file, self.problem_id, "all", self.hide)
        except JudgeError as exc:  # e.g. the file vanished between the two stages
            self._error(exc)
            return self.code
        self._header()
        render_report(full, self.console, hide=self.hide)
        self.record(full)
        self.code = 0 if full.verdict == "accepted" else 1
        self._status("every case judged; waiting for the next save")
        return self.code

    def _error(self, exc: JudgeError) -> None:
        self.console.print(f"[bold red]error:[/bold red] {escape(clean(str(exc)))}", soft_wrap=True)
        if exc.hint:
            self.console.print(f"[dim]hint:[/dim] {escape(clean(str(exc.hint)))}", soft_wrap=True)
        self.code = 2
        self._status("waiting for the next save")

    def _warm_judge(self, file, problem_id, groups, hide):
        from .session import Session

        if self.session is None:
            self.session = Session(file, problem_id)
        return self.session.judge(groups, hide=hide)

    def _default_record(self, report) -> None:
        from . import history

        history.record_report(report, mode="watch", groups="all", no_record=self.no_record)

    def forever(self, **wait) -> int:
        """Rounds until Ctrl-C; returns the last full verdict's exit code."""
        try:
            while True:
                seen = self.signature(self.file)
                self.round()
                wait_for_save(self.file, seen, signature=self.signature, **wait)
        except KeyboardInterrupt:
            self.console.print("\nstopped watching")
            return self.code
        finally:
            if self.session is not None:
                self.session.close()
