"""Text that came from candidate code or from a submissions folder: data, never markup.

Everything a candidate controls (exception messages, printed output, the names of
files in a graded folder) passes through :func:`clean` before it is stored in a
report, so no output (a terminal table, JSON, JUnit XML, CSV) can be steered by
it: terminal escape sequences and control characters are removed, the length is
capped. Renderers still print it as plain text (``rich.text.Text``), never as
markup; :func:`shown_name` is the form of a path safe to show on one line.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte escapes, and C1 CSI.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides.
# Characters that show nothing (zero-width spaces and joiners, the soft hyphen, marks
# that steer text direction, line separators): "bob\u200b.py" must not pass for "bob.py".
INVISIBLE = "\u00ad\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb"
_CONTROLS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{INVISIBLE}]")
TEXT_LIMIT = 2000  # characters of one candidate-controlled message kept in a report
# What parsing a candidate's source may raise: a syntax error, a null byte (ValueError), and,
# for 240 KB of `1 + 1 + ...` or of nested brackets, RecursionError or MemoryError.
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)


def clean(text, limit: int = TEXT_LIMIT) -> str:
    """``text`` without escape sequences or control characters (tab and newline kept),
    cut to ``limit`` characters. Anything that is not a string becomes its ``str``."""
    if not isinstance(text, str):
        text = str(text)
    text = _CONTROLS.sub("", _ESCAPES.sub("", text))
    # Lone surrogates (from undecodable bytes) cannot be written as UTF-8: show them as "?".
    text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) > limit:
        text = text[:limit] + " [...]"
    return text


def shown_name(name: str, limit: int = 200) -> str:
    """A file name for one line of a report: control characters, newlines and
    undecodable bytes shown escaped (``\\n``, ``\\x1b``, ``\\udcff``), never acted on."""
    out = []
    for ch in name:
        if ch in "\t\n\r" or _CONTROLS.match(ch) or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                       if ord(ch) < 0xD800 else f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(ch)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit] + "..."
