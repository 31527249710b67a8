"""Validating problem specs, for problem authors: `mhajudge validate [PATH]`.

For each spec: the schema loads; the cases can be drawn; the reference solution,
judged through the real sandbox, passes every case; and every named mistake (each
of its forms in ``reference/mistakes/``) is rejected by the hidden cases and
diagnosed as itself. A mistake that the hidden cases let through is an error.

Then a small fixed set of generic mutants of the reference (``mutation.VALIDATE_KINDS``:
a comparison, a reduction, a keyword, an axis changed) is judged on the hidden cases;
each one they let through is a *warning*: a hole in the cases, unless the mutant is
equivalent (``benchmarks/mutation.py`` tells the two apart with the problem's oracle).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import JudgeError, SpecError


@dataclass
class MistakeCheck:
    mistake: str
    form: int            # which form of the mistake (0 unless it has several)
    rejected: bool       # some hidden case fails
    diagnosed: bool      # the judge names this mistake
    also: list[str] = field(default_factory=list)   # other mistakes it is diagnosed as

    @property
    def ok(self) -> bool:
        return self.rejected and self.diagnosed


@dataclass
class ProblemCheck:
    problem: str
    path: str
    errors: list[str] = field(default_factory=list)
    cases: int = 0
    mistakes: list[MistakeCheck] = field(default_factory=list)
    survivors: list[str] = field(default_factory=list)   # generic mutants the hidden cases let through
    mutants: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and all(m.ok for m in self.mistakes)


def spec_paths(path: Path | None) -> list[Path]:
    """The specs to check: one file, a folder of them, or the whole bank."""
    from . import bank

    if path is None:
        return [bank.problems_dir() / f"{pid}.yaml" for pid in bank.problem_ids()]
    path = Path(path)
    if path.is_dir():
        folder = path / "problems" if (path / "problems").is_dir() else path
        found = sorted(p for p in folder.glob("*.yaml") if p.stem != "mistakes")
        if not found:
            raise JudgeError(f"{path} holds no problem specs (*.yaml)")
        return found
    if not path.is_file():
        raise JudgeError(f"no such file or folder: {path}")
    return [path]


def _use_bank_of(spec: Path) -> None:
    """Check a spec against the reference/ folder beside its problems/ folder."""
    from . import bank

    root = spec.resolve().parent.parent
    if (root / "reference").is_dir() and root != bank.root():
        os.environ["MHAJUDGE_BANK"] = str(root)
        for cached in (bank.root, bank.load_problem, bank.reference_module):
            cached.cache_clear()


def check_problem(spec: Path, isolate: bool = False) -> ProblemCheck:
    from . import bank, spec as spec_mod
    from .cases import build
    from .diagnose import Raised, run_mistake, diagnose_report, mistake_functions
    from .judge import verdict_for, judge_file
    from .results import CaseResult, Report
    from .sandbox.replies import RunResult

    result = ProblemCheck(problem=spec.stem, path=str(spec))
    try:
        _use_bank_of(spec)
        problem = spec_mod.load(spec)
        result.problem = problem.id
        cases = build(problem)
    except SpecError as exc:
        result.errors.append(str(exc))
        return result
    result.cases = len(cases)
    from .track import unknown_torch_names

    for name in unknown_torch_names(problem.torch_forbidden):
        result.errors.append(f"torch_forbidden: {name!r} names nothing in the installed torch "
                             f"(a misspelling bans nothing); write a dotted name such as torch.nn.functional.softmax")
    reference = bank.reference_dir() / f"{problem.reference}.py"
    report = judge_file(reference, problem=problem, cases=cases, isolate=isolate, diagnose=False)
    for c in report.cases:
        if c.verdict != "accepted":
            result.errors.append(f"the reference gets {c.verdict} on {c.name!r}: {c.message}")
    code = mistake_functions(problem)
    for m in problem.mistakes:
        forms = code.get(m["id"])
        if not forms:
            result.errors.append(f"mistake {m['id']!r} has no code in reference/mistakes/{problem.reference}.py")
            continue
        by_fn = {fn: (f if isinstance(f, (list, tuple)) else [f]) for fn, f in forms.items()}
        for k in range(max(len(v) for v in by_fn.values())):
            fake = Report(problem=problem.id, file=f"<mistake {m['id']}>")
            for case in cases:
                fns = by_fn.get(case.fn)
                raised = None
                if not fns:
                    verdict, answer = "accepted", None
                else:
                    answer = run_mistake(fns[min(k, len(fns) - 1)], case)
                    if isinstance(answer, Raised):  # as the child reports a candidate's exception
                        raised = str(answer)
                        run = RunResult("raised", exception=raised, message=f"{answer}: raised by the mistake")
                        answer = None
                    else:
                        run = RunResult("ok", answer=answer)
                    verdict, message = verdict_for(case, run)[:2]
                r = CaseResult(case.name, case.group, verdict, answer=answer,
                               message=message if fns else "", exception=raised)
                r.case, r.fn = case, case.fn
                fake.cases.append(r)
            rejected = any(c.verdict != "accepted" for c in fake.cases if c.group == "hidden")
            found = [d["id"] for d in diagnose_report(problem, fake)] if fake.verdict != "accepted" else []
            result.mistakes.append(MistakeCheck(m["id"], k, rejected, m["id"] in found,
                                                [x for x in found if x != m["id"]]))
    if not result.errors:
        _check_mutants(result, reference, cases)
    return result


MUTANTS_MOST = 40          # generic mutants judged per problem, at most
MUTANTS_BUDGET_S = 20.0    # and for at most this long (the whole bank: under five minutes more)


def _check_mutants(result: ProblemCheck, reference: Path, cases) -> None:
    """Judge the fixed set of generic mutants; note the survivors (warnings, not errors)."""
    import time

    from . import mutation

    start = time.perf_counter()
    for m in mutation.mutants(reference.read_text(encoding="utf-8"), mutation.VALIDATE_KINDS)[:MUTANTS_MOST]:
        if time.perf_counter() - start > MUTANTS_BUDGET_S:
            break
        result.mutants += 1
        if not mutation.judge(cases, m).rejected:
            result.survivors.append(m.description)


def render(checks: list[ProblemCheck], console) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="problem x named mistake", title_justify="left")
    for col in ("problem", "mistake", "rejected?", "diagnosed?", "also diagnosed as"):
        table.add_column(col)
    yes, no = Text("yes", "green"), Text("NO", "bold red")
    for pc in checks:
        if not pc.mistakes:
            table.add_row(pc.problem, "-", "-", "-", "")
        for mc in pc.mistakes:
            name = mc.mistake + (f" (form {mc.form + 1})" if mc.form else "")
            table.add_row(pc.problem, name, yes if mc.rejected else no, yes if mc.diagnosed else no,
                          ", ".join(mc.also))
    console.print(table)
    for pc in checks:
        status = Text("ok", "green") if pc.ok else Text("INVALID", "bold red")
        console.print(Text(f"{pc.problem}: ") + status + Text(f"  ({pc.cases} cases, {len(pc.mistakes)} mistake forms, "
                                                              f"{pc.mutants} generic mutants)"))
        for e in pc.errors:
            from rich.markup import escape

            console.print(f"  [red]error:[/red] {escape(str(e))}", soft_wrap=True)
        for mc in pc.mistakes:
            if not mc.rejected:
                console.print(f"  [red]error:[/red] the hidden cases let mistake {mc.mistake!r} through", soft_wrap=True)
            elif not mc.diagnosed:
                console.print(f"  [red]error:[/red] mistake {mc.mistake!r} is rejected but not diagnosed as itself",
                              soft_wrap=True)
        for text in pc.survivors:
            from rich.markup import escape

            console.print(f"  [yellow]warning:[/yellow] the hidden cases let a mutant of the reference through: "
                          f"{escape(text)} (a hole, unless it is equivalent; see benchmarks/mutation.py)",
                          soft_wrap=True)
