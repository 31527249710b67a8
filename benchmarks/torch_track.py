"""What the PyTorch track costs, measured side by side in one run.

1. `mhajudge run` on a correct torch solution, beside `python -c "import torch"` (the
   floor: a torch file cannot be judged without importing torch once), and their ratio;
   `mhajudge run` on the NumPy reference beside it for scale. Medians, runs interleaved.
2. The per-case cost, torch track beside NumPy track: one sandbox per track on the same
   problem, every case sent `--rounds` times, the median wall time of `Sandbox.run`
   (fork, call, convert, send back, vet), and the ratio.
   (The NumPy sandbox is measured before and after the torch one; the lesser counts.)
3. Grade throughput: `mhajudge grade` on `--copies` torch submissions and on as many
   NumPy ones (isolated, as grade always is), submissions per second, and the ratio.

    .venv/bin/python benchmarks/torch_track.py [--problem sdpa] [--repeats 5] [--rounds 5] [--copies 8]

The torch solution is the one `tests/torch_kit.py` writes for the problem (the same
file the tests judge); the NumPy one is the reference.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge.sandbox.runner import Limits, Sandbox  # noqa: E402
from mhajudge.track import banned_calls, banned_modules  # noqa: E402

import torch_kit  # noqa: E402


def timed(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - t


def interleaved(cmds: dict, repeats: int) -> dict:
    """The median wall time of each command, the commands taking turns."""
    times = {k: [] for k in cmds}
    for _ in range(repeats):
        for k, cmd in cmds.items():
            times[k].append(timed(cmd))
    return {k: statistics.median(v) for k, v in times.items()}


def per_case(problem, file: Path, track: str, cases, rounds: int) -> float:
    """The median wall time of one case through a loaded sandbox."""
    entry = [{"name": ep.name, "params": ep.params} for ep in problem.entry_points]
    times = []
    with Sandbox(file, entry, banned_modules(problem, track), Limits(), source=file.read_text(), track=track,
                 torch_forbidden=banned_calls(problem, track)) as box:
        assert box.wait_loaded().ok, box.wait_loaded().message
        for _ in range(rounds):
            for case in cases:
                t = time.perf_counter()
                box.run(case.index, case.program, case.inputs, case.time_limit)
                times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="sdpa")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--only", choices=("run", "case", "grade"), help="one of the three measures")
    args = parser.parse_args()
    problem = bank.load_problem(args.problem)
    tmp = Path(tempfile.mkdtemp(prefix="torch-bench-"))
    torch_file = tmp / "torch_solution.py"
    torch_file.write_text(torch_kit.source(problem.id))
    numpy_file = bank.reference_dir() / f"{problem.reference}.py"
    py = sys.executable

    print(f"problem {problem.id}; {py}")
    if args.only in (None, "run"):
        run_vs_import(py, torch_file, numpy_file, problem, args)
    if args.only in (None, "case"):
        cases_side_by_side(problem, torch_file, numpy_file, args)
    if args.only in (None, "grade"):
        grade_side_by_side(py, tmp, torch_file, numpy_file, problem, args)


def run_vs_import(py, torch_file, numpy_file, problem, args) -> None:
    t = interleaved({
        "import torch": [py, "-c", "import torch"],
        "run torch": [py, "-m", "mhajudge", "run", str(torch_file), "--no-record"],
        "run numpy": [py, "-m", "mhajudge", "run", str(numpy_file), "--problem", problem.id, "--no-record"],
    }, args.repeats)
    print(f"\n1. median of {args.repeats}, interleaved")
    print(f"   python -c 'import torch'          {t['import torch']:7.3f} s")
    print(f"   mhajudge run (torch solution)     {t['run torch']:7.3f} s   "
          f"{t['run torch'] / t['import torch']:.2f}x the torch import")
    print(f"   mhajudge run (NumPy reference)    {t['run numpy']:7.3f} s")


def cases_side_by_side(problem, torch_file, numpy_file, args) -> None:
    cases = build(problem)
    c_numpy = per_case(problem, numpy_file, "numpy", cases, args.rounds)
    c_torch = per_case(problem, torch_file, "torch", cases, args.rounds)
    c_numpy = min(c_numpy, per_case(problem, numpy_file, "numpy", cases, args.rounds))  # either side of torch's
    print(f"\n2. per case, median over {len(cases)} cases x {args.rounds} rounds (one loaded sandbox each)")
    print(f"   NumPy track   {c_numpy * 1e3:7.2f} ms")
    print(f"   torch track   {c_torch * 1e3:7.2f} ms   {c_torch / c_numpy:.2f}x the NumPy track")


def grade_side_by_side(py, tmp, torch_file, numpy_file, problem, args) -> None:
    folders = {}
    for track, source in (("torch", torch_file.read_text()), ("numpy", numpy_file.read_text())):
        d = tmp / f"grade-{track}"
        for i in range(args.copies):
            (d / f"s{i:02d}").mkdir(parents=True)
            (d / f"s{i:02d}" / "solution.py").write_text(source)
        folders[track] = d
    g = interleaved({k: [py, "-m", "mhajudge", "grade", str(d), "--problem", problem.id, "--format", "json"]
                     for k, d in folders.items()}, max(1, args.repeats // 2))
    print(f"\n3. grade {args.copies} submissions (isolated), median of {max(1, args.repeats // 2)}")
    for k in ("numpy", "torch"):
        print(f"   {k:5s}  {g[k]:7.2f} s   {args.copies / g[k]:6.2f} submissions/s")
    print(f"   torch throughput is {g['numpy'] / g['torch']:.2f}x the NumPy track's")


if __name__ == "__main__":
    main()
