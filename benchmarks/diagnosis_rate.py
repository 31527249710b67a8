"""How often the judge names the right mistake, on the project's solution files and on
files written from public code.

Every file under ``reference/solutions/`` states what it must get (``# expect-verdict:``,
``# expect-diagnosis:``; see ``reference/README.md``). A file with a ``# source: URL``
line is *real code* (written from a public repository, a course or a blog); the others
are the project's own. For each set it prints:

- the diagnosis rate: of the files that contain a named mistake, how many get exactly
  the diagnoses they expect;
- wrong names: files (any, correct ones included) that get a diagnosis they do not expect.

Run from the worktree to measure this checkout, or point PYTHONPATH at another checkout
to measure its judge on the same files (the "before" figure)::

    PYTHONPATH=. python benchmarks/diagnosis_rate.py
    PYTHONPATH=/work/main python benchmarks/diagnosis_rate.py --solutions reference/solutions
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def expectations(text: str) -> tuple[str, set[str]]:
    verdict = re.search(r"^# expect-verdict:\s*(\S+)", text, re.M)
    diag = re.search(r"^# expect-diagnosis:\s*(.+)$", text, re.M)
    return (verdict.group(1) if verdict else "?"), (set(diag.group(1).split()) if diag else set())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--solutions", type=Path, default=HERE / "reference" / "solutions")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per file")
    args = ap.parse_args()
    from mhajudge.errors import JudgeError
    from mhajudge.judge import judge_file

    import mhajudge
    print(f"judge: {Path(mhajudge.__file__).parent}")
    sets = {"project": [0, 0, 0, 0], "real code": [0, 0, 0, 0]}  # with mistake, right, files, wrong names
    for path in sorted(args.solutions.rglob("*.py")):
        text = path.read_text()
        kind = "real code" if re.search(r"^# source:\s*\S+", text, re.M) else "project"
        _, want = expectations(text)
        try:
            report = judge_file(path, path.parent.name)
            got = {d["id"] for d in report.diagnoses}
        except JudgeError as exc:  # e.g. a problem this checkout does not have
            got = {f"(error: {exc})"}
        s = sets[kind]
        s[2] += 1
        if want:
            s[0] += 1
            s[1] += got == want
        s[3] += bool(got - want)
        if args.verbose or (got != want):
            mark = "ok " if got == want else "BAD"
            print(f"  {mark} {kind:9s} {path.relative_to(args.solutions)}: expected {sorted(want)}, got {sorted(got)}")
    for kind, (n, right, files, wrong) in sets.items():
        rate = f"{right}/{n} = {100 * right / n:.0f}%" if n else "n/a"
        print(f"{kind:9s}: diagnosis rate {rate} of the files with a named mistake; "
              f"{wrong} of {files} files get a name they should not")
    return 0


if __name__ == "__main__":
    sys.exit(main())
