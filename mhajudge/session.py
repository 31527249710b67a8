"""A file judged again and again (``run --watch``, ``practice``), with the child kept warm.

A cold ``run`` pays for a new interpreter, NumPy's import in the child and the cases'
expected answers. Between two saves of the same file none of that changes, so a
:class:`Session` keeps one :class:`~mhajudge.sandbox.runner.Sandbox` (its trusted
child reloads each new version of the source; every case still runs in a fresh fork
of it) and the cases it built, and reuses the results of cases already judged on
the same source (the samples judged first, then every case)::

    with Session("solution.py") as s:
        first = s.judge("sample")
        full = s.judge("all")      # the two sample cases are not run again
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import JudgeError
from .results import Report


class Session:
    """One candidate file, judged on demand against cases built once."""

    def __init__(self, file, problem_id: str | None = None, *, limits=None, isolate: bool | None = None,
                 secret: str | None = None):
        self.file = Path(file)
        self.problem_id = problem_id
        self.limits = limits
        self.isolate = isolate
        self.secret = secret
        self.problem = None
        self.box = None
        self._cases: dict[str, list] = {}
        self._known: tuple = (None, {})  # ((source, hide), results by case name) of the last judgement

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self.box is not None:
            self.box.close()
            self.box = None

    def _read(self) -> tuple[str, int | None]:
        from .notebook import code_of, is_notebook
        from .source import SourceError, read_source

        if not self.file.is_file():
            what = "not a regular file" if self.file.exists() else "no such file"
            raise JudgeError(f"{what}: {self.file}", hint="give the path of a .py file")
        try:
            return code_of(self.file) if is_notebook(self.file) else (read_source(self.file), None)
        except SourceError as exc:
            raise JudgeError(f"{self.file}: {exc}") from None

    def _problem(self, source: str):
        from . import bank
        from .judge import resolve_problem

        if self.problem_id:
            wanted = self.problem_id
        else:  # the header or the functions may change between saves
            wanted = resolve_problem(self.file).id
        if self.problem is None or self.problem.id != wanted:
            if self.box is not None:  # another problem: other entry points, other cases
                self.close()
            self.problem = bank.load_problem(wanted)
            self._cases = {}
        return self.problem

    def cases(self, groups: str) -> list:
        from .cases import build

        if groups not in self._cases:
            if groups == "sample" and "all" in self._cases:
                self._cases[groups] = [c for c in self._cases["all"] if c.group == "sample"]
            else:
                self._cases[groups] = build(self.problem, secret=self.secret, groups=groups)
        return self._cases[groups]

    def judge(self, groups: str = "all", *, hide: bool = False, only: str | None = None,
              exitfirst: bool = False, on_case=None) -> Report:
        """Judge the file as it is now on disk; see :func:`mhajudge.judge.judge_file`."""
        from .judge import judge_file
        from .sandbox import isolation
        from .sandbox.runner import Limits, Sandbox

        from .track import banned_calls, banned_modules, track_of

        source, skipped = self._read()
        problem = self._problem(source)
        track = track_of(source)
        if self.box is not None and self.box.track != track:  # a child never changes track: a new one
            self.close()
        if self.box is None:
            secret_set = bool(self.secret or os.environ.get("MHAJUDGE_SECRET"))
            isolate = isolation.resolve(self.isolate, secret=secret_set, grading=False)
            entry_points = [{"name": ep.name, "params": ep.params} for ep in problem.entry_points]
            self.box = Sandbox(self.file, entry_points, banned_modules(problem, track), self.limits or Limits(),
                               isolate=isolate, source=source, track=track,
                               torch_forbidden=banned_calls(problem, track))
            self.box.start()
        else:
            self.box.reload(source)
        key = (source, hide)
        known = self._known[1] if self._known[0] == key else {}
        try:
            report = judge_file(self.file, problem=problem, cases=self.cases(groups), secret=self.secret,
                                limits=self.limits, hide=hide, groups=groups, isolate=self.box.isolate,
                                only=only, exitfirst=exitfirst, source=source, on_case=on_case,
                                sandbox=self.box, known=known, notebook_skipped=skipped)
        except BaseException:  # Ctrl-C or an error mid-case: a reply may still be on its way; start afresh
            self.close()
            raise
        done = {c.name: c for c in report.cases if c.case is not None and not c.from_load}
        self._known = (key, {**known, **done})
        return report
