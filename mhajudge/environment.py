"""The switches the judge reads from the environment, read one way everywhere."""

from __future__ import annotations

import os


def flag(name: str) -> bool:
    """Is ``name`` set to something true? ``""``, ``0``, ``false``, ``no`` and ``off`` are not."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def in_ci() -> bool:
    """Running in a CI pipeline (``CI`` set, as every CI service does)."""
    return flag("CI")
