"""The starter file of a problem: the header, the signatures and their docstrings."""

from __future__ import annotations


def starter_source(problem) -> str:
    lines = [f"# mhajudge: {problem.id}", f'"""{problem.title}: `mhajudge show {problem.id}` has the statement."""',
             "", "import numpy as np", ""]
    for ep in problem.entry_points:
        lines += ["", f"def {ep.signature}:"]
        doc = ep.doc.strip() or f"Return {ep.returns}."
        lines += ['    """' + doc.replace("\n", "\n    ").rstrip() + '\n    """', "    raise NotImplementedError", ""]
    return "\n".join(lines)


def default_name(problem) -> str:
    """``mha-projected`` -> ``mha_projected.py``."""
    return problem.id.replace("-", "_") + ".py"
