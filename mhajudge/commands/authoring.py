"""For problem authors: ``validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app, console, guard


@app.command()
@guard
def validate(
    path: Optional[Path] = typer.Argument(None, help="a spec (problems/ID.yaml) or a folder of them; default: the whole bank"),
    isolate: bool = typer.Option(False, "--isolate", help="judge the references inside bubblewrap"),
) -> None:
    """Check problem specs: schema, reference passes every case, each named mistake caught.

    For every named mistake (its code in reference/mistakes/), the hidden cases must
    reject it and the judge must diagnose it as itself. Exit 0 when all is valid,
    2 when anything is not.

    Examples:

      [bold]mhajudge validate[/bold]

      [bold]mhajudge validate problems/sdpa.yaml[/bold]
    """
    from .. import validate as v

    checks = []
    for spec in v.spec_paths(path):
        checks.append(v.check_problem(spec, isolate=isolate))
    v.render(checks, console())
    raise typer.Exit(0 if all(c.ok for c in checks) else 2)
