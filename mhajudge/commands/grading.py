"""Grading many files: ``grade`` and ``merge``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import JudgeError

from ..similarity import THRESHOLD as SIMILARITY_THRESHOLD
from . import (Format, app, as_json, case_option, check_visibility, console, exitfirst_option, guard, isolation_choice,
               check_max_score, max_score_option, positive, visibility_option)


def _writable(path: Optional[Path], folder: bool, flag: str) -> None:
    """Refuse, before judging, an output path that cannot be written."""
    if path is None:
        return
    if folder and path.is_dir():
        target = path
    elif path.is_dir():
        raise JudgeError(f"{flag} {path} is a folder", hint="give a file name, e.g. report.json")
    else:
        target = path.parent if str(path.parent) else Path(".")
    if not target.is_dir():
        raise JudgeError(f"{flag} {path}: the folder {target} does not exist", hint="create it first, or give another path")
    if not os.access(target, os.W_OK | os.X_OK):
        raise JudgeError(f"{flag} {path}: cannot write in {target}")


def _write_results_folders(result: dict, folder: Path, max_score, visibility: str) -> None:
    """``--format gradescope -o DIR``: DIR/<submission>/results.json, one per submission."""
    from .. import formats

    folder.mkdir(exist_ok=True)
    names: dict[str, str] = {}
    failed, written = [], 0
    for row in result["submissions"]:
        name = formats.results_folder_name(row["path"])
        if name in names:  # two paths one folder: say so rather than let one overwrite the other
            failed.append(f"{row['path']} (its folder {name} is also {names[name]}'s)")
            continue
        names[name] = row["path"]
        try:  # one submission's folder that cannot be written costs only that submission
            target = folder / name
            target.mkdir(exist_ok=True)
            (target / "results.json").write_text(as_json(formats.gradescope(row, max_score, visibility)),
                                                 encoding="utf-8")
            written += 1
        except OSError as exc:
            failed.append(f"{row['path']} ({exc.strerror or exc})")
    if failed:
        from ..untrusted import shown_name

        raise JudgeError(f"wrote {written} of {len(result['submissions'])} results folders in {folder}; not: "
                         + "; ".join(shown_name(f, 300) for f in failed[:5]) + (" ..." if len(failed) > 5 else ""),
                         hint="the others are written; the report on stdout or --output has every row")


def _emit_grade(result: dict, format: Format, csv_path: Optional[Path], output: Optional[Path],
                max_score=None, visibility: str = "after_published") -> None:
    """One grade object out in the asked format (to --output or stdout), and the CSV."""
    from .. import formats

    result = formats.plain(result)  # also for `merge`, whose input is any JSON file
    if format == Format.table:
        formats.render_grade(result, console())
        text = None
    elif format == Format.json:
        text = as_json(result)
    elif format == Format.junit:
        text = formats.junit(result["submissions"], result["problem"])
    elif format == Format.html:
        from ..html_report import render

        text = render(result)
    elif output is not None:  # gradescope to a folder: one results.json per submission
        text = None
    else:
        text = as_json(formats.gradescope_many(result, max_score, visibility))
    try:
        if format == Format.gradescope and output is not None:
            _write_results_folders(result, output, max_score, visibility)
        elif text is not None:
            if output:
                output.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
        if csv_path:
            csv_path.write_text(formats.csv_text(result), encoding="utf-8")
    except OSError as exc:
        raise JudgeError(f"cannot write {exc.filename}: {exc.strerror}") from None


def _stopped_by_ctrl_c() -> None:
    """Ctrl-C in grade: every sandbox is closed (grading.grade did it); exit now, not once
    each worker thread has seen its closed sandbox (on a loaded machine that took over 30 s)."""
    import os
    import sys

    try:
        sys.stderr.write("mhajudge: stopped (Ctrl-C); every sandbox was closed, nothing more is judged\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(130)


@app.command()
@guard
def grade(
    folder: Path = typer.Argument(..., metavar="DIR", help="a folder of submissions: .py files, or folders holding one"),
    problem: str = typer.Option(..., "--problem", "-p", metavar="ID", help="the problem every submission solves"),
    jobs: int = typer.Option(0, "--jobs", "-j", show_default=False, help="submissions judged at once (default: the number of cores)"),
    format: Format = typer.Option(Format.table, "--format", "-f",
                                  help="table, json, junit, gradescope, or html (one self-contained page for staff)"),
    csv_path: Optional[Path] = typer.Option(None, "--csv", metavar="PATH", help="also write one CSV row per submission"),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="write the report here instead of stdout; with --format gradescope, "
                                               "a folder DIR: a results.json in DIR/<submission> for each"),
    visibility: str = visibility_option(),
    max_score: Optional[float] = max_score_option(),
    case: Optional[str] = case_option(),
    exitfirst: bool = exitfirst_option(),
    shard: Optional[str] = typer.Option(None, "--shard", metavar="K/N",
                                        help="judge only shard K of N (a CI matrix); join with `mhajudge merge`"),
    fail_under: Optional[float] = typer.Option(None, "--fail-under", metavar="RATE",
                                               help="exit 1 when fewer than this fraction (0-1) of submissions are accepted"),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", metavar="SECONDS",
                                               help="cap each case's wall-clock limit (the spec's, 10 s by default)"),
    isolate: Optional[bool] = typer.Option(None, "--isolate/--no-isolate",
                                           help="each submission runs inside bubblewrap, always (exit 2 where it "
                                                "is missing); --no-isolate runs them with resource limits only, "
                                                "as your user, with a warning"),
    # A panel of their own: in the options' table, at 80 columns, the long name was cut
    # ("--similarity-th…") to leave room for the --no-isolate and --show-hidden columns.
    similarity: bool = typer.Option(False, "--similarity", rich_help_panel="Near-duplicates",
                                    help="also report the pairs of near-duplicate submissions (renamed variables, "
                                         "reordered functions, new comments and layout do not hide a copy; the "
                                         "starter file's text is ignored); with --shard, within the shard only"),
    similarity_threshold: Optional[float] = typer.Option(
        None, "--similarity-threshold", metavar="SCORE", rich_help_panel="Near-duplicates",
        help=f"report the pairs scoring at least this (0-1; default {SIMILARITY_THRESHOLD}); implies --similarity"),
) -> None:
    """Judge every submission under DIR, in parallel, one row each.

    Hidden cases stay hidden: no inputs or expected values appear in any output.
    Keep MHAJUDGE_SECRET in your CI's secrets: it changes every hidden case.
    Every submission runs isolated (bubblewrap; exit 2 where it is missing). Memory:
    2 GiB and 72 processes per submission, in all, where the judge can make control
    groups (root in most CI containers); elsewhere those bounds hold per process.
    Exit 0 when every submission was judged, whatever the verdicts.

    DIR is treated as hostile: a source larger than 256 KiB (262,144 bytes), a
    symlink leading outside its submission, a FIFO, socket or device, or an
    unreadable file gets a load-error row saying why, and is never run.

    Examples:

      [bold]mhajudge grade submissions/ --problem sdpa[/bold]

      [bold]mhajudge grade submissions/ -p sdpa --format json --shard 1/4 -o shard1.json[/bold]

      [bold]mhajudge grade submissions/ -p sdpa --format junit -o junit.xml --csv grades.csv[/bold]

      [bold]mhajudge grade submissions/ -p sdpa --format html -o report.html[/bold]

    --format html writes one page that needs no network (verdict counts, a score
    histogram, the commonest diagnoses, a row per submission that opens on its
    failing cases); hidden cases show name, verdict and error size only.

      [bold]mhajudge grade submissions/ -p sdpa --similarity --format json[/bold]
    """
    from ..grading import grade as grade_all, parse_shard

    if fail_under is not None and not 0 <= fail_under <= 1:
        raise JudgeError(f"--fail-under {fail_under} must be a fraction between 0 and 1")
    if jobs < 0:
        raise JudgeError(f"--jobs {jobs} must be a number of submissions at once (0: one per core)")
    visibility = check_visibility(visibility)
    max_score = check_max_score(max_score)
    # Before judging anyone: a report that cannot be written must not cost a whole class's run.
    _writable(output, folder=format == Format.gradescope, flag="--output")
    _writable(csv_path, folder=False, flag="--csv")
    if similarity or similarity_threshold is not None:
        similarity_threshold = SIMILARITY_THRESHOLD if similarity_threshold is None else similarity_threshold
    _warn_about_the_secret()
    progress, stop = _progress_bar(format)
    try:
        from ..sandbox.runner import Limits

        limits = Limits(case_time_s=positive(time_limit, "--time-limit"))
        try:
            result = grade_all(folder, problem, jobs=jobs or None, shard=parse_shard(shard), progress=progress,
                               limits=limits, isolate=isolation_choice(isolate, grading=True), only=case,
                               exitfirst=exitfirst, similarity=similarity_threshold)
        except KeyboardInterrupt:
            stop()
            _stopped_by_ctrl_c()
    finally:
        stop()
    _emit_grade(result, format, csv_path, output, max_score, visibility)
    raise typer.Exit(_grade_exit(result, fail_under))


def _warn_about_the_secret() -> None:
    """An empty MHAJUDGE_SECRET (what a CI gives for a secret never configured) is no
    secret; nor is none in CI: the hidden cases are then the public default ones, which
    anyone can build and precompute. Said on stderr; the grade goes on."""
    from ..cases import SECRET_VAR
    from ..environment import in_ci

    value = os.environ.get(SECRET_VAR)
    if value is not None and not value.strip():
        why = f"{SECRET_VAR} is set but empty (a CI secret that was never configured?)"
    elif value is None and in_ci():
        why = f"grading in CI without {SECRET_VAR}"
    else:
        return
    console(stderr=True).print(f"[yellow]warning:[/yellow] {why}: the hidden cases are the public default ones, "
                               "which anyone can build and precompute answers for; set the secret to a long "
                               "random string", soft_wrap=True, markup=True)


def _grade_exit(result: dict, fail_under: Optional[float]) -> int:
    subs = result["submissions"]
    if any(r.get("judge_error") for r in subs):
        console(stderr=True).print("[bold red]error:[/bold red] the judge failed on some submissions (see their notes)")
        return 2
    if fail_under is not None and subs:
        rate = sum(r["verdict"] == "accepted" for r in subs) / len(subs)
        if rate < fail_under:
            console(stderr=True).print(f"pass rate {rate:.1%} is under --fail-under {fail_under:.1%}")
            return 1
    return 0


def _progress_bar(format: Format):
    """A progress bar on a terminal (stderr), none in CI or when piped."""
    err = console(stderr=True)
    from ..environment import in_ci

    if not err.is_terminal or in_ci():
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err, transient=True)
    task = bar.add_task("grading", total=None)
    bar.start()

    def update(done, total, row):
        bar.update(task, completed=done, total=total)

    return update, bar.stop


@app.command()
@guard
def merge(
    reports: list[Path] = typer.Argument(..., metavar="REPORT...", help="JSON reports of `grade --shard K/N`"),
    format: Format = typer.Option(Format.json, "--format", "-f",
                                  help="json (default), table, junit, gradescope or html"),
    csv_path: Optional[Path] = typer.Option(None, "--csv", metavar="PATH", help="also write one CSV row per submission"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the merged report here instead of stdout"),
    partial: bool = typer.Option(False, "--partial", help="merge the shards given even when some of 1..N are "
                                                          "missing (by default that is an error: a missing "
                                                          "artefact must not pass as the whole class)"),
) -> None:
    """Join the JSON reports of sharded `grade` runs into one.

    Each report is checked: one problem, the shards of one --shard K/N run (every K,
    unless --partial), and rows as grade wrote them (a row whose verdict or score
    disagrees with its cases is refused).

    Examples:

      [bold]mhajudge merge shard-*.json -o report.json[/bold]

      [bold]mhajudge merge shard-*.json --format html -o report.html[/bold]
    """
    from ..grading import merge as merge_reports

    loaded = []
    for path in reports:
        try:
            loaded.append(json.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise JudgeError(f"cannot read {path}: {exc.strerror}") from None
        except ValueError as exc:
            raise JudgeError(f"{path} is not JSON: {exc}", hint="merge the output of `mhajudge grade --format json`") from None
    _emit_grade(merge_reports(loaded, [str(p) for p in reports], partial=partial), format, csv_path, output)
