"""A timed interview: a starter file, a countdown, the samples judged on every save,
the hidden cases judged on submission, the outcome recorded with the time taken.

The logic is :class:`Practice`, a small state machine with no terminal in it::

    p = Practice(problem, path, minutes=20)      # clock, judge, file watching injectable
    p.start()                                    # judges the samples once
    while p.state == "running":
        p.tick()                                 # a save -> samples judged; time up -> submitted
        ...                                      # p.submit(), p.quit(), p.next_hint() on keys
    p.final_report, p.elapsed_s, p.attempt

Tests drive it with a fake clock, fake file signatures and a fake judge.
:func:`run_in_terminal` is the thin front-end ``mhajudge practice`` uses: rich Live
for the countdown, single keys read in cbreak mode (``s`` then Enter also works).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import JudgeError
from .starter import default_name, starter_source

DEFAULT_MINUTES = {"easy": 20, "medium": 30, "hard": 45}
SETTLE_S = 0.15   # a save is judged once the file has been still this long (editors write in steps)
KEYS_HELP = "s submit · h next hint · r re-judge · q give up"


def default_minutes(problem) -> int:
    return DEFAULT_MINUTES.get(problem.difficulty, 30)


def prepare_file(problem, file: Path | None = None, directory: Path | None = None,
                 track: str = "numpy") -> tuple[Path, bool]:
    """The file to work in, and whether it was just written.

    ``file`` given: used as it is if it exists, else a starter is written there.
    Not given: a fresh starter ``ID_practice.py`` in ``directory`` (``_2``, ``_3``...
    when taken), so an earlier attempt is never overwritten.
    """
    if file is not None:
        file = Path(file)
        if file.is_dir():
            raise JudgeError(f"{file} is a folder", hint="give --file the path of a .py file")
        if file.exists():
            return file, False
    else:
        directory = Path(directory) if directory is not None else Path()
        stem = default_name(problem)[:-3] + "_practice"
        file = directory / f"{stem}.py"
        n = 2
        while file.exists():
            file, n = directory / f"{stem}_{n}.py", n + 1
    try:
        file.write_text(starter_source(problem, track), encoding="utf-8")  # track: numpy or torch
    except OSError as exc:
        raise JudgeError(f"cannot write {file}: {exc.strerror}",
                         hint="run from a folder you can write to, or pass --file PATH") from None
    return file, True


def file_signature(path: Path):
    """What changes when the file is saved (``None`` while it is missing, e.g. mid-rename)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass
class Judged:
    """The latest on-save judgement of the samples."""

    report: object = None       # a Report, or None when the judge could not judge
    error: str = ""             # why it could not (the file vanished, ...)
    at_s: float = 0.0           # elapsed seconds when it was judged
    count: int = 0              # how many judgements so far


class Practice:
    """One timed attempt at one problem. States: ready -> running -> done.

    ``outcome`` once done: ``submitted``, ``expired`` (time ran out; the file is
    judged as it is) or ``quit`` (nothing judged, nothing recorded).
    """

    def __init__(self, problem, file: Path, minutes: float, *,
                 clock: Callable[[], float] = time.monotonic,
                 judge: Callable | None = None,
                 record: Callable | None = None,
                 signature: Callable = file_signature,
                 settle_s: float = SETTLE_S,
                 no_record: bool = False,
                 on_judging: Callable[[str], None] | None = None):
        if minutes <= 0:
            raise JudgeError(f"--minutes must be positive, got {minutes:g}")
        self.problem = problem
        self.file = Path(file)
        self.limit_s = float(minutes) * 60
        self.clock = clock
        self.session = None  # without a judge given: a warm Session (one child for every save)
        self.judge = judge or self._warm_judge
        self.record = record or self._default_record
        self.signature = signature
        self.settle_s = settle_s
        self.no_record = no_record
        self.on_judging = on_judging or (lambda groups: None)
        self.state = "ready"
        self.outcome = ""
        self.samples = Judged()
        self.final_report = None
        self.final_error = ""
        self.elapsed_s: float | None = None
        self.attempt = None          # the recorded history.Attempt, if recorded
        self.hints_shown = 0
        self._started = 0.0
        self._seen = None            # the signature last judged (or being waited on)
        self._pending_since: float | None = None

    # time

    @property
    def elapsed(self) -> float:
        if self.state == "ready":
            return 0.0
        if self.elapsed_s is not None:
            return self.elapsed_s
        return min(self.clock() - self._started, self.limit_s)

    @property
    def remaining(self) -> float:
        return max(self.limit_s - self.elapsed, 0.0)

    # events

    def start(self) -> None:
        """Start the clock and judge the file's samples once (a baseline)."""
        if self.state != "ready":
            raise RuntimeError(f"start() in state {self.state}")
        self.state = "running"
        self._started = self.clock()
        self._seen = self.signature(self.file)
        self._judge_samples()

    def tick(self) -> list[str]:
        """Check the clock and the file. Returns what happened: ``expired``,
        ``changed`` (a save was seen), ``judged`` (the samples were judged)."""
        if self.state != "running":
            return []
        if self.clock() - self._started >= self.limit_s:
            self._finish("expired")
            return ["expired"]
        events = []
        sig = self.signature(self.file)
        now = self.clock()
        if sig is not None and sig != self._seen:
            self._seen = sig
            self._pending_since = now
            events.append("changed")
        if self._pending_since is not None and now - self._pending_since >= self.settle_s:
            self._judge_samples()
            events.append("judged")
        return events

    def rejudge(self) -> None:
        """Judge the samples now (the ``r`` key)."""
        if self.state == "running":
            self._seen = self.signature(self.file)
            self._judge_samples()

    def submit(self):
        """Judge every case (samples and hidden), record it; returns the report."""
        if self.state != "running":
            raise RuntimeError(f"submit() in state {self.state}")
        self._finish("submitted")
        return self.final_report

    def quit(self) -> None:
        """Give up (also Ctrl-C while judging a submission): nothing more judged or recorded."""
        if self.state in ("running", "judging"):
            if self.elapsed_s is None:
                self.elapsed_s = self.elapsed
            self.state, self.outcome = "done", "quit"
        self.close()

    def next_hint(self) -> str | None:
        hints = self.problem.hints
        if self.hints_shown >= len(hints):
            return None
        self.hints_shown += 1
        return hints[self.hints_shown - 1]

    # inside

    def _judge_samples(self) -> None:
        self._pending_since = None
        self.on_judging("sample")
        at = self.elapsed
        try:
            self.samples = Judged(self.judge(self.file, self.problem.id, "sample"), "", at, self.samples.count + 1)
        except JudgeError as exc:
            self.samples = Judged(None, str(exc), at, self.samples.count + 1)

    def _finish(self, outcome: str) -> None:
        self.elapsed_s = min(self.clock() - self._started, self.limit_s)
        self.state = "judging"
        self.outcome = outcome
        self.on_judging("all")
        try:
            self.final_report = self.judge(self.file, self.problem.id, "all")
        except JudgeError as exc:
            self.final_error = str(exc)
        else:
            self.attempt = self.record(self.final_report, self.elapsed_s)
        finally:
            self.close()  # done: nothing more is judged
        self.state = "done"

    def _warm_judge(self, file, problem_id, groups):
        from .session import Session

        if self.session is None:
            self.session = Session(file, problem_id)
        return self.session.judge(groups)

    def close(self) -> None:
        """Stop the warm child, if one was started."""
        if self.session is not None:
            self.session.close()
            self.session = None

    def _default_record(self, report, solve_s):
        from . import history

        return history.record_report(report, mode="practice", groups="all", solve_s=solve_s,
                                     no_record=self.no_record)


# --- the terminal front-end ------------------------------------------------------------


class Keys:
    """Single key presses from the terminal, without blocking.

    On a terminal: cbreak mode (keys arrive one at a time, Ctrl-C still works),
    restored on exit. Otherwise (a pipe): one line at a time, its first letter.
    """

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self.fd = None
        self.saved = None
        self.eof = False

    def __enter__(self):
        try:
            self.fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            self.fd = None
        if self.fd is not None and sys.platform != "win32" and os.isatty(self.fd):
            import termios
            import tty

            self.saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved)
            self.saved = None

    def read(self, timeout: float) -> str | None:
        """The next key (lowercase), or None after ``timeout`` seconds."""
        if self.fd is None or self.eof:
            time.sleep(timeout)
            return None
        if sys.platform == "win32":  # pragma: no cover - no select() on a Windows console
            import msvcrt

            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if msvcrt.kbhit():
                    return msvcrt.getwch().lower()
                time.sleep(0.02)
            return None
        import select

        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self.fd, 64).decode("utf-8", "replace")
        if not data:
            self.eof = True
            return None
        keys = data.strip().lower()
        return keys[:1] or None


def _countdown(p: Practice):
    from rich.text import Text

    from .progress import clock

    left = p.remaining
    style = "bold green" if left > 300 else "bold yellow" if left > 60 else "bold red"
    line = Text()
    line.append(f"{clock(left)} left", style)
    line.append(f"  of {clock(p.limit_s)}  ", "dim")
    done = int(20 * p.elapsed / p.limit_s) if p.limit_s else 20
    line.append("█" * done, style)
    line.append("░" * (20 - done), "dim")
    return line


def render_state(p: Practice, judging: str = "", hints: list[str] | None = None):
    """The live panel: countdown, the file, the latest sample verdicts, hints, keys."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from .progress import STYLE, clock

    rows = [_countdown(p), Text(f"file: {p.file}  (save it to judge the samples)", "dim")]
    s = p.samples
    if judging:
        rows.append(Text("judging every case..." if judging == "all" else "judging the samples...", "bold cyan"))
    elif s.error:
        rows.append(Text(f"samples: the judge could not judge: {s.error}", "red"))
    elif s.report is not None:
        r = s.report
        line = Text("samples: ")
        if r.total == 0:
            line.append("this problem has no sample cases; submit to judge the hidden ones", "dim")
        else:
            line.append(r.verdict.upper(), "bold " + STYLE.get(r.verdict, ""))
            line.append(f"  {r.passed}/{r.total} passed  (save #{s.count}, at {clock(s.at_s)})", "dim")
        rows.append(line)
        for c in r.cases[:6]:
            mark = Text("  ✓ " if c.verdict == "accepted" else "  ✗ ", STYLE.get(c.verdict, ""),
                        no_wrap=True, overflow="ellipsis")
            mark.append(f"{c.name}: {c.verdict}")
            if c.verdict != "accepted" and c.message:
                mark.append(f"  {c.message.splitlines()[0]}", "dim")
            rows.append(mark)
        for d in r.diagnoses:
            rows.append(Text(f"  diagnosis: {d['id']}: {d.get('title', d.get('message', ''))}", "yellow"))
    for i, h in enumerate(hints or [], 1):
        rows.append(Text(f"hint {i}/{len(p.problem.hints)}: {h}", "cyan"))
    rows.append(Text(f"keys: {KEYS_HELP}", "dim"))
    return Panel(Group(*rows), title=f"practice: {p.problem.id}", title_align="left",
                 border_style="cyan", expand=False)


def show_statement(problem, console) -> None:
    from rich.markdown import Markdown
    from rich.syntax import Syntax

    console.rule(f"[bold]{problem.id}[/bold]: {problem.title}  [dim]({problem.difficulty})[/dim]")
    console.print(Markdown(problem.statement))
    console.print(Syntax("\n".join(f"def {ep.signature}: ..." for ep in problem.entry_points), "python", word_wrap=True))
    console.print()


def run_in_terminal(p: Practice, console, keys: Keys | None = None, tick_s: float = 0.1) -> int:
    """Run a practice session in the terminal; returns the exit code (0 accepted)."""
    from rich.live import Live

    from .progress import clock
    from .render import render_report

    show_statement(p.problem, console)
    hints: list[str] = []
    live_box: list = []

    def judging(groups: str) -> None:
        if live_box:
            live_box[0].update(render_state(p, judging=groups, hints=hints), refresh=True)

    p.on_judging = judging
    with (keys or Keys()) as k, Live(render_state(p, hints=hints), console=console, auto_refresh=False,
                                     transient=False, redirect_stdout=False, redirect_stderr=False) as live:
        live_box.append(live)
        try:
            p.start()
            while p.state == "running":
                live.update(render_state(p, hints=hints), refresh=True)
                key = k.read(tick_s)
                if key == "s":
                    p.submit()
                elif key == "q":
                    p.quit()
                elif key == "h":
                    hint = p.next_hint()
                    if hint is not None:
                        hints.append(hint)
                elif key == "r":
                    p.rejudge()
                p.tick()
        except KeyboardInterrupt:
            p.quit()
        finally:
            p.close()
        live.update(render_state(p, hints=hints), refresh=True)

    if p.outcome == "quit":
        console.print(f"gave up after {clock(p.elapsed_s)}; nothing judged, nothing recorded "
                      f"(your file is still {p.file})")
        return 1
    if p.final_report is None:
        from rich.markup import escape

        console.print(f"[bold red]the judge could not judge[/bold red]: {escape(str(p.final_error))}")
        return 2
    render_report(p.final_report, console)
    why = "time is up; judged as it was" if p.outcome == "expired" else "submitted"
    verdict = p.final_report.verdict
    recorded = "recorded in your history" if p.attempt else "[dim]not recorded[/dim]"
    console.print(f"{why} after {clock(p.elapsed_s)} of {clock(p.limit_s)}: [bold]{verdict}[/bold]; {recorded}")
    return 0 if verdict == "accepted" else 1
