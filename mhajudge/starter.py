"""The starter file of a problem: the header, the signatures and their docstrings."""

from __future__ import annotations


def starter_source(problem, track: str = "numpy") -> str:
    """The starter's text; ``track="torch"`` gives the PyTorch one (``# mhajudge: ID torch``)."""
    if track == "torch":
        from .track import banned_calls

        import textwrap

        about = ("Arrays arrive as CPU tensors of the case's dtype (masks torch.bool, token ids torch.int64, "
                 "generators torch.Generator); return tensors. From scratch: not allowed here are "
                 + ", ".join(banned_calls(problem, "torch")) + ".")
        lines = [f"# mhajudge: {problem.id} torch",
                 f'"""{problem.title}, in PyTorch: `mhajudge show {problem.id}` has the statement.', "",
                 *textwrap.wrap(about, 88, break_on_hyphens=False), '"""', "", "import torch", ""]
    else:
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
