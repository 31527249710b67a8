"""The user's attempts: one row per judged run, in an SQLite database.

Where: ``$MHAJUDGE_HOME/history.sqlite3`` when ``MHAJUDGE_HOME`` is set, else the
platform's user data folder (``$XDG_DATA_HOME/mhajudge``, by default
``~/.local/share/mhajudge`` on Linux; ``~/Library/Application Support/mhajudge`` on
macOS; ``%LOCALAPPDATA%\\mhajudge`` on Windows). Created on first use.

Safe against several runs at once: WAL journal, a busy timeout, and short
transactions (``BEGIN IMMEDIATE`` for every write, so a writer never has to upgrade a
read lock). The schema is versioned with ``PRAGMA user_version`` and upgraded by
``MIGRATIONS``, in order, inside one write transaction: an older history is never
lost when the schema grows.

Recording is off with ``--no-record``, ``MHAJUDGE_NO_RECORD=1`` or in CI (``CI`` set).
The history never decides an exit code: a corrupt, read-only or unreachable
database degrades to one warning line on stderr (:func:`warn`), and the command
goes on. This module imports no NumPy (``mhajudge list`` reads it).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

DB_NAME = "history.sqlite3"
BUSY_TIMEOUT_S = 10.0

# MIGRATIONS[v] upgrades a database at user_version v to v + 1. Append only: never
# edit a released step, since users' databases have already run it.
MIGRATIONS: list[str] = [
    # 0 -> 1: the attempts table.
    """
    CREATE TABLE attempts (
        id          INTEGER PRIMARY KEY,
        problem     TEXT NOT NULL,
        file        TEXT NOT NULL DEFAULT '',
        file_hash   TEXT NOT NULL DEFAULT '',
        verdict     TEXT NOT NULL,
        passed      INTEGER NOT NULL DEFAULT 0,
        total       INTEGER NOT NULL DEFAULT 0,
        created_at  REAL NOT NULL,
        duration_s  REAL,
        diagnoses   TEXT NOT NULL DEFAULT '[]'
    );
    """,
    # 1 -> 2: how the attempt was made, which cases it covered, practice time taken.
    """
    ALTER TABLE attempts ADD COLUMN mode TEXT NOT NULL DEFAULT 'run';
    ALTER TABLE attempts ADD COLUMN groups TEXT NOT NULL DEFAULT 'all';
    ALTER TABLE attempts ADD COLUMN solve_s REAL;
    CREATE INDEX attempts_problem ON attempts (problem, created_at);
    """,
    # 2 -> 3: the track the file was solved on (numpy or torch, see mhajudge.track).
    """
    ALTER TABLE attempts ADD COLUMN track TEXT NOT NULL DEFAULT 'numpy';
    """,
]
LATEST = len(MIGRATIONS)

COLUMNS = ("id", "problem", "file", "file_hash", "verdict", "passed", "total", "created_at",
           "duration_s", "diagnoses", "mode", "groups", "solve_s", "track")
# Attempts that judged the hidden cases can solve a problem; sample-only ones cannot.
FULL = "groups NOT IN ('sample', 'partial')"  # a run of some cases only (--samples, --case, -x) never solves


class HistoryError(Exception):
    """The history could not be read or written; :func:`warn` says so in one line."""


@dataclass
class Attempt:
    problem: str
    verdict: str
    passed: int = 0
    total: int = 0
    file: str = ""
    file_hash: str = ""
    created_at: float = 0.0
    duration_s: float | None = None
    diagnoses: list[str] = field(default_factory=list)
    mode: str = "run"           # run | watch | practice
    groups: str = "all"         # all | sample | hidden | partial (--case, -x)
    solve_s: float | None = None  # practice: seconds from the start to the submission
    id: int | None = None
    track: str = "numpy"        # numpy | torch

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in COLUMNS}


@dataclass
class Best:
    """One problem's best so far, for ``mhajudge list``."""

    problem: str
    attempts: int
    solved: bool
    verdict: str                # the best attempt's verdict
    passed: int
    total: int
    best_solve_s: float | None  # the shortest practice time to accepted
    tracks: tuple = ()          # the tracks it is solved on: ("numpy",), ("numpy", "torch")...


# --- where, and whether ------------------------------------------------------------


def data_dir() -> Path:
    """The folder holding the history: ``MHAJUDGE_HOME``, else the user data folder."""
    home = os.environ.get("MHAJUDGE_HOME")
    if home:
        return Path(home).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or ""
        if not os.path.isabs(base):  # the XDG spec: ignore a relative value
            base = str(Path.home() / ".local" / "share")
    return Path(base) / "mhajudge"


def db_path() -> Path:
    return data_dir() / DB_NAME


def recording_enabled(no_record: bool = False) -> bool:
    """False with ``--no-record``, ``MHAJUDGE_NO_RECORD=1``, or in CI (``CI`` set)."""
    from .environment import flag, in_ci

    return not (no_record or flag("MHAJUDGE_NO_RECORD") or in_ci())


_warned = False


def warn(exc: Exception, path: Path | None = None) -> None:
    """One line on stderr, once per process: the history is unavailable, and why."""
    global _warned
    if _warned:
        return
    _warned = True
    path = path or db_path()
    text = str(exc).strip() or type(exc).__name__
    if "not a database" in text or "malformed" in text:
        what = (f"{path} is not a readable SQLite database ({text}); "
                "move it aside to start a new history")
    else:
        what = (f"cannot use {path} ({text}); set MHAJUDGE_HOME to a writable folder, "
                "or MHAJUDGE_NO_RECORD=1 to stop recording")
    sys.stderr.write(f"mhajudge: warning: history unavailable: {what}\n")
    sys.stderr.flush()


def file_hash(path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


# --- the database --------------------------------------------------------------------


class History:
    """The attempts database at ``path`` (default :func:`db_path`).

    Every method opens its own short-lived connection, so a long judge never holds
    a lock. Errors come out as :class:`HistoryError`; the ``safe_*`` functions below
    turn them into a warning.
    """

    def __init__(self, path: Path | str | None = None, timeout: float = BUSY_TIMEOUT_S):
        self.path = Path(path) if path is not None else db_path()
        self.timeout = timeout

    # connections and migrations

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if not self.path.exists():
            if not create:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise HistoryError(f"cannot create {self.path.parent}: {exc.strerror or exc}") from None
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(str(exc)) from None
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self._wal(con)
            con.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; no fsync per commit
            self._migrate(con)
        except BaseException:
            con.close()
            raise
        return con

    def _wal(self, con: sqlite3.Connection) -> None:
        """Switch to WAL (once per database; it persists). The switch needs the database
        to itself, and SQLite refuses it at once, without waiting, while another process
        migrates an old rollback-journal history: so retry until the busy timeout."""
        deadline = time.monotonic() + self.timeout
        while con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            try:
                con.execute("PRAGMA journal_mode = WAL").fetchall()
                return  # switched, or (a filesystem without WAL) stays as it is
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _migrate(self, con: sqlite3.Connection) -> None:
        if con.execute("PRAGMA user_version").fetchone()[0] >= LATEST:
            return
        con.execute("BEGIN IMMEDIATE")  # one migrator at a time; others wait, then see it done
        try:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version, LATEST):
                for statement in _statements(MIGRATIONS[step]):
                    con.execute(statement)
                con.execute(f"PRAGMA user_version = {step + 1}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _connect_readonly(self) -> sqlite3.Connection:
        """A read-only snapshot, for reading a database this user cannot write."""
        uri = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
        return sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)

    def _run(self, fn, create: bool):
        try:
            try:
                con = self._connect(create)
            except sqlite3.OperationalError:
                if create or not self.path.exists() or os.access(self.path, os.W_OK):
                    raise
                con = self._connect_readonly()
            if con is None:
                return None
            with closing(con):
                return fn(con)
        except sqlite3.Error as exc:
            raise HistoryError(str(exc)) from None
        except OSError as exc:
            raise HistoryError(exc.strerror or str(exc)) from None

    def version(self) -> int:
        return self._run(lambda con: con.execute("PRAGMA user_version").fetchone()[0], create=False) or 0

    # writing

    def record(self, attempt: Attempt) -> Attempt:
        """Insert one attempt (one short write transaction); returns it with its id."""
        if not attempt.created_at:
            attempt.created_at = time.time()
        values = attempt.to_json()
        values.pop("id")
        values["diagnoses"] = json.dumps(list(attempt.diagnoses))

        def insert(con):
            con.execute("BEGIN IMMEDIATE")
            try:
                cur = con.execute(f"INSERT INTO attempts ({', '.join(values)}) "
                                  f"VALUES ({', '.join('?' for _ in values)})", list(values.values()))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            return cur.lastrowid

        attempt.id = self._run(insert, create=True)
        return attempt

    # reading

    def attempts(self, problem: str | None = None, limit: int | None = None) -> list[Attempt]:
        """Attempts, newest first."""
        where, args = ("WHERE problem = ?", [problem]) if problem else ("", [])
        sql = f"SELECT {', '.join(COLUMNS)} FROM attempts {where} ORDER BY created_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self._run(lambda con: con.execute(sql, args).fetchall(), create=False) or []
        return [_attempt(row) for row in rows]

    def best(self) -> dict[str, Best]:
        """Per problem: solved?, the best verdict, the shortest practice time to accepted."""
        # SQLite returns the other columns of the row that reaches MAX(): the best attempt.
        sql = f"""
            SELECT problem, COUNT(*), MAX(verdict = 'accepted'),
                   MIN(CASE WHEN verdict = 'accepted' THEN solve_s END),
                   verdict, passed, total,
                   MAX((verdict = 'accepted') * 2.0 + passed * 1.0 / MAX(total, 1))
            FROM attempts WHERE {FULL} GROUP BY problem"""
        rows = self._run(lambda con: con.execute(sql).fetchall(), create=False) or []
        solved_on = f"SELECT DISTINCT problem, track FROM attempts WHERE verdict = 'accepted' AND {FULL}"
        tracks: dict[str, list] = {}
        for problem, track in self._run(lambda con: con.execute(solved_on).fetchall(), create=False) or []:
            tracks.setdefault(problem, []).append(track)
        return {r[0]: Best(problem=r[0], attempts=r[1], solved=bool(r[2]), best_solve_s=r[3],
                           verdict=r[4], passed=r[5], total=r[6], tracks=tuple(sorted(tracks.get(r[0], ()))))
                for r in rows}

    def solved(self, problem: str) -> bool:
        sql = f"SELECT 1 FROM attempts WHERE problem = ? AND verdict = 'accepted' AND {FULL} LIMIT 1"
        return bool(self._run(lambda con: con.execute(sql, [problem]).fetchone(), create=False))

    def diagnosis_counts(self) -> list[tuple[str, int]]:
        """How often each named mistake was diagnosed, most frequent first: in how many
        versions of a file (a file judged again unchanged, by --samples, --case or a second
        run, is the same mistake, made once)."""
        once = "COUNT(DISTINCT COALESCE(NULLIF(attempts.file_hash, ''), 'attempt ' || attempts.id))"
        sql = (f"SELECT j.value, {once} FROM attempts, json_each(attempts.diagnoses) AS j "
               f"GROUP BY j.value ORDER BY {once} DESC, j.value")
        try:
            return self._run(lambda con: con.execute(sql).fetchall(), create=False) or []
        except HistoryError as exc:
            if "json_each" not in str(exc):
                raise
        seen: dict[str, set] = {}  # an SQLite built without JSON1
        for a in self.attempts():
            for d in a.diagnoses:
                seen.setdefault(d, set()).add(a.file_hash or f"attempt {a.id}")
        return sorted(((d, len(v)) for d, v in seen.items()), key=lambda kv: (-kv[1], kv[0]))


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _attempt(row) -> Attempt:
    values = dict(zip(COLUMNS, row))
    try:
        values["diagnoses"] = list(json.loads(values["diagnoses"] or "[]"))
    except ValueError:
        values["diagnoses"] = []
    return Attempt(**values)


# --- what the commands call: never raise, warn once ------------------------------------


def attempt_from_report(report, *, mode: str = "run", groups: str = "all",
                        solve_s: float | None = None) -> Attempt:
    return Attempt(problem=report.problem, verdict=report.verdict, passed=report.passed,
                   total=report.total, file=str(Path(report.file).resolve()) if report.file else "",
                   file_hash=file_hash(report.file) if report.file else "",
                   duration_s=round(report.wall_s, 4),
                   diagnoses=[d["id"] for d in report.diagnoses], mode=mode, groups=groups,
                   track=getattr(report, "track", "numpy"),
                   solve_s=None if solve_s is None else round(solve_s, 2))


def record_report(report, *, mode: str = "run", groups: str = "all", solve_s: float | None = None,
                  no_record: bool = False, history: History | None = None) -> Attempt | None:
    """Record a judged report unless recording is off; a failure is a warning, not an error."""
    if not recording_enabled(no_record):
        return None
    history = history or History()
    try:
        return history.record(attempt_from_report(report, mode=mode, groups=groups, solve_s=solve_s))
    except HistoryError as exc:
        warn(exc, history.path)
        return None


def safe(method: str, *args, default=None, history: History | None = None, **kwargs):
    """``History().method(*args)``, or ``default`` after a one-line warning."""
    history = history or History()
    try:
        return getattr(history, method)(*args, **kwargs)
    except HistoryError as exc:
        warn(exc, history.path)
        return default
