"""Tokens: the normalised text of a unit, and raw tokens for code that will not parse."""

from __future__ import annotations

import builtins
import keyword
import re

BUILTINS = frozenset(dir(builtins))

_TOKEN = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\w+|\*\*|//|->|[<>=!]=|\S""")


def text_tokens(text: str) -> list[str]:
    """The tokens of an unparsed unit, with ``{`` ``}`` for indentation and ``;`` at line ends."""
    out, depth = [], 0
    for line in text.split("\n"):
        body = line.lstrip(" ")
        if not body:
            continue
        level = (len(line) - len(body)) // 4
        out += ["{"] * (level - depth) + ["}"] * (depth - level)
        depth = level
        out += _TOKEN.findall(body)
        out.append(";")
    return out


_RAW = re.compile(r"""#[^\n]*|(?:[rRbBuUfF]{0,2})(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')"""
                  r"""|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\w+|\*\*|//|->|[<>=!]=|\n|[^\s]""")
_KEEP = frozenset(keyword.kwlist) | BUILTINS | {"np", "numpy", "math", "torch"}


def raw_units(source: str) -> list[list[str]]:
    """Tokens of a source that does not parse, as close to the parsed ones as text
    allows: split where a top-level ``def`` or ``class`` starts, comments dropped,
    strings one placeholder, ``np`` is ``numpy``, names numbered within each line."""
    out = []
    for chunk in re.split(r"\n(?=(?:def|class|async\s+def)\b)", source):
        order: dict[str, str] = {}
        tokens, after_dot, depth, indents, line_start = [], False, 0, [0], 0
        for m in _RAW.finditer(chunk):
            tok = m.group()
            if tok.startswith("#"):
                continue
            if tok == "\n":
                if depth <= 0 and tokens and tokens[-1] != ";":
                    tokens.append(";")
                    order = {}
                line_start = m.end()
                continue
            if depth <= 0 and (not tokens or tokens[-1] == ";"):  # a new statement: its indentation
                col = m.start() - line_start
                if col > indents[-1]:
                    indents.append(col)
                    tokens.append("{")
                while len(indents) > 1 and col < indents[-1]:
                    indents.pop()
                    tokens.append("}")
            if tok[-1] in "'\"":
                tok = "'S'"
            elif tokens and tokens[-1] in ("def", "class"):
                tok = "F" if tokens[-1] == "def" else "C"
            elif (tok[0].isalpha() or tok[0] == "_") and not after_dot and tok not in _KEEP:
                tok = order.setdefault(tok, f"v{len(order)}")
            elif tok == "np":
                tok = "numpy"
            elif tok[0].isdigit():
                tok = _number(tok)
            depth += (tok in "([{") - (tok in ")]}")
            after_dot = tok == "."
            tokens.append(tok)
        if tokens:
            out.append(tokens)
    return out


def _number(tok: str) -> str:
    """A number as the parsed path prints it (``1`` and ``1.0`` alike)."""
    try:
        return repr(float(tok))
    except ValueError:
        return tok


_IDS: dict[str, int] = {}
