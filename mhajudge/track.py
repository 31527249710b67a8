"""The track of a submission: NumPy (the default) or PyTorch.

    from mhajudge.track import track_of
    track_of("import torch\\n...")          # "torch"
    track_of("# mhajudge: sdpa torch\\n")   # "torch" (the header says so)
    track_of("import numpy as np\\n")       # "numpy"

A file is on the torch track when it imports ``torch`` (``import torch``, ``from torch
import nn``, ``import torch.nn.functional as F``) or its header says
``# mhajudge: ID torch`` (``../shared/PROBLEMS.md``, "The PyTorch track"). Then torch is
no longer a banned module for it, and the torch functions that would do the problem
for it are banned instead: the track-wide :data:`TRACK_FORBIDDEN` plus the problem's
own ``torch_forbidden`` (spec field). The judge never imports torch for this: only
the candidate's child does (:mod:`mhajudge.sandbox.torch_track`).
"""

from __future__ import annotations

import ast
import functools
import re

TRACKS = ("numpy", "torch")
HEADER_RE = re.compile(r"^\s*#\s*mhajudge:\s*[a-z0-9-]+\s+(numpy|torch)\s*$")
# Banned on the torch track in every problem: what would solve attention for you.
TRACK_FORBIDDEN = (
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.ops.aten._scaled_dot_product_*",
    "torch.nn.MultiheadAttention",
    "torch.nn.functional.multi_head_attention_forward",
    "torch.ops.aten._native_multi_head_attention",
    "torch.nn.Transformer*",
    "torch.ops.aten._transformer_encoder_layer_fwd",
)
INSTALL_HINT = "pip install 'mhajudge[torch]'"


def track_of(source: str | None) -> str:
    """``"torch"`` or ``"numpy"``, from the header or the imports of ``source``."""
    if not source:
        return "numpy"
    for line in source.splitlines()[:30]:
        m = HEADER_RE.match(line)
        if m:
            return m.group(1)
    if "torch" not in source:  # the usual NumPy file: no parse
        return "numpy"
    from .untrusted import PARSE_ERRORS

    try:
        tree = ast.parse(source)
    except PARSE_ERRORS:
        return "torch" if re.search(r"^\s*(import|from)\s+torch\b", source, re.M) else "numpy"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.partition(".")[0] == "torch" for a in node.names):
            return "torch"
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").partition(".")[0] == "torch":
            return "torch"
    return "numpy"


def banned_modules(problem, track: str) -> list[str]:
    """The modules the candidate may not import on ``track``."""
    return [m for m in problem.forbidden if not (track == "torch" and m == "torch")]


def banned_calls(problem, track: str) -> list[str]:
    """The torch functions banned on ``track`` (none on the NumPy track: torch is banned whole)."""
    if track != "torch":
        return []
    return list(TRACK_FORBIDDEN) + [n for n in getattr(problem, "torch_forbidden", []) if n not in TRACK_FORBIDDEN]


@functools.lru_cache(maxsize=None)
def torch_installed() -> bool:
    """Is torch importable by this interpreter (found, not imported: that costs seconds)?"""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


@functools.lru_cache(maxsize=None)
def torch_folders() -> tuple[str, ...]:
    """What an isolated child on the torch track needs bound back: torch's own packages
    (``torch``, ``torchgen``, ``functorch``) and those of its installed requirements
    (``typing_extensions``, ``sympy``...), found from its metadata without importing it."""
    import importlib.metadata
    import importlib.util
    from pathlib import Path

    try:
        dist = importlib.metadata.distribution("torch")
    except importlib.metadata.PackageNotFoundError:
        return ()
    tops = (dist.read_text("top_level.txt") or "torch\n").split()
    todo, seen = list(dist.requires or []), {"torch"}
    while todo:  # its requirements and theirs (sympy needs mpmath, jinja2 markupsafe)
        req = todo.pop()
        if "extra ==" in req:
            continue
        name = re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            sub = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        tops += (sub.read_text("top_level.txt") or name.replace("-", "_")).split()
        todo += sub.requires or []
    found = []
    for top in dict.fromkeys(tops):
        if not top.isidentifier():
            continue
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
            continue
        origin = Path(spec.origin).resolve()
        where = origin.parent if origin.name == "__init__.py" else origin
        found.append(str(where))
        libs = where.with_name(where.name + ".libs")
        if libs.is_dir():
            found.append(str(libs))
    return tuple(found)


_RESOLVE = r"""
import fnmatch, json, sys
import torch
ops = {n[6:].split(".")[0] for n in torch._C._dispatch_get_all_op_names() if n.startswith("aten::")}
def found(name):
    if name.startswith("torch.ops.aten."):
        op = name[len("torch.ops.aten."):]
        return any(fnmatch.fnmatchcase(o, op) for o in ops)
    parent, _, last = name.rpartition(".")
    obj = torch
    for part in parent.split(".")[1:]:
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return any(fnmatch.fnmatchcase(k, last) for k in dir(obj))
print(json.dumps([n for n in sys.argv[1:] if not found(n)]))
"""


def unknown_torch_names(names: list[str]) -> list[str]:
    """The names of a spec's ``torch_forbidden`` that the installed torch does not have
    (a misspelling would otherwise ban nothing). Asked of a separate interpreter, so the
    judge itself never imports torch; empty when torch is not installed."""
    import json
    import subprocess
    import sys

    if not names or not torch_installed():
        return []
    proc = subprocess.run([sys.executable, "-I", "-c", _RESOLVE, *names], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0:
        return [f"(torch could not be asked: {proc.stderr.strip().splitlines()[-1:]})"]
    return json.loads(proc.stdout)


def sandbox_options(problem, source: str | None) -> dict:
    """The track-dependent arguments of a :class:`mhajudge.sandbox.runner.Sandbox` for a
    file with ``source``: ``forbidden``, ``track``, ``torch_forbidden``."""
    track = track_of(source)
    return {"forbidden": banned_modules(problem, track), "track": track,
            "torch_forbidden": banned_calls(problem, track)}


def read_track_source(file) -> str | None:
    """A file's text for :func:`track_of`, or None when it cannot be read (the sandbox then says why)."""
    from .source import SourceError, read_source

    try:
        return read_source(file)
    except SourceError:
        return None
