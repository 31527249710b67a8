"""What a judgement produces: per-case results and the report, as plain data.

``Report.to_json()`` is the contract's JSON object (``../shared/CLI.md``); the
renderers in :mod:`mhajudge.render` and the grade formats start from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VERDICTS = ("accepted", "wrong-answer", "runtime-error", "time-limit", "memory-limit",
            "load-error", "forbidden")
# The one colour of each verdict, wherever it is shown (rich style names).
COLOURS = {"accepted": "green", "wrong-answer": "red", "runtime-error": "magenta", "time-limit": "yellow",
           "memory-limit": "yellow", "load-error": "red", "forbidden": "red"}


@dataclass
class CaseResult:
    name: str
    group: str
    verdict: str
    max_abs_error: float | None = None
    time_s: float | None = None
    message: str = ""
    weight: float = 1.0
    fn: str = ""
    details: str = ""   # from a custom check; for people, not in JSON
    exception: str | None = None  # the builtin exception class it raised (judge-checked), if any
    from_load: bool = False       # its message is the file's load error (no case's inputs were present)
    # Judge-side only, never in JSON: for diagnosis and for showing small cases.
    answer: dict | None = None
    case: object = None

    def to_json(self) -> dict:
        err = self.max_abs_error
        return {"name": self.name, "group": self.group, "verdict": self.verdict,
                "max_abs_error": None if err is None or err != err else float(err),
                "time_s": None if self.time_s is None else round(float(self.time_s), 6),
                "message": self.message, **({"weight": self.weight} if self.weight != 1.0 else {})}


@dataclass
class Report:
    problem: str
    file: str
    cases: list[CaseResult] = field(default_factory=list)
    diagnoses: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load_message: str = ""
    stdout: str = ""
    stderr: str = ""
    wall_s: float = 0.0
    speed: dict | None = None   # {"time_s", "reference_time_s", "ratio"} on cases passed
    isolated: bool = False      # the candidate ran inside bubblewrap
    divergence: dict | None = None   # {case, line, variable, message}: where the code first goes wrong
    trace: list | None = None        # run --trace: every traced line's shapes (see mhajudge.divergence)
    trace_case: str = ""
    track: str = "numpy"        # "numpy" or "torch" (see mhajudge.track)
    not_run: list = field(default_factory=list)  # (name, group, weight) of the cases -x left unrun

    @property
    def verdict(self) -> str:
        for c in self.cases:
            if c.verdict != "accepted":
                return c.verdict
        return "accepted" if self.cases else "load-error"

    @property
    def passed(self) -> int:
        return sum(c.verdict == "accepted" for c in self.cases)

    @property
    def total(self) -> int:
        """The cases judged, and those ``-x`` stopped before (counted, never passed): with
        or without ``-x``, one file's total and score are out of the same cases."""
        return len(self.cases) + len(self.not_run)

    @property
    def score(self) -> float:
        """Weighted fraction of cases passed, in [0, 1]."""
        weight = sum(c.weight for c in self.cases) + sum(w for _, _, w in self.not_run)
        return sum(c.weight for c in self.cases if c.verdict == "accepted") / weight if weight else 0.0

    def to_json(self) -> dict:
        return {"problem": self.problem, "file": self.file, "verdict": self.verdict,
                "passed": self.passed, "total": self.total,
                "cases": [c.to_json() for c in self.cases],
                "diagnoses": [{"id": d["id"], "message": d["message"],
                               **({"explains": list(d["explains"])} if "explains" in d else {})}
                              for d in self.diagnoses],
                "score": round(self.score, 6), "notes": list(self.notes), "speed": self.speed,
                "isolated": self.isolated, "track": self.track, "time_s": round(self.wall_s, 4),
                **({"divergence": dict(self.divergence)} if self.divergence else {}),
                **({"not_run": [{"name": n, "group": g, **({"weight": w} if w != 1.0 else {})}
                                for n, g, w in self.not_run]} if self.not_run else {})}
