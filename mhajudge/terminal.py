"""Plain terminal text for the commands that must start fast: styles, wrapping, boxes.

``mhajudge --help`` and ``mhajudge list`` are the first commands anyone types, and Rich
takes about as long to import as NumPy does (100 ms on the machine this was measured
on), more than the rest of either command. So those two lay out their text here, with
the standard library: a cell is a list of *runs* ``(text, style)``, styles are Rich's
names (``"bold cyan"``, ``"dim"``), and colour is written only to a terminal that wants it
(``NO_COLOR`` and ``FORCE_COLOR`` are honoured, ``TERM=dumb`` is plain). Every other
command prints with Rich.
"""

from __future__ import annotations

import os
import re
import shutil
import sys

CODES = {"bold": "1", "dim": "2", "italic": "3", "red": "31", "green": "32", "yellow": "33",
         "blue": "34", "magenta": "35", "cyan": "36"}

HEAVY_HEAD = ("┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘")   # a table: its head, then its rows
ROUNDED = ("╭─╮", "│", "╰─╯")                          # a panel


class Out:
    """Where the text goes, how wide it may be, and whether it is coloured."""

    def __init__(self, stream=None, width: int | None = None, colour: bool | None = None):
        self.stream = stream or sys.stdout
        self.width = width or _width()
        self.colour = _wants_colour(self.stream) if colour is None else colour

    def styled(self, runs) -> str:
        if not self.colour:
            return "".join(text for text, _ in runs)
        out = []
        for text, style in runs:
            codes = ";".join(CODES[w] for w in (style or "").split() if w in CODES)
            out.append(f"\x1b[{codes}m{text}\x1b[0m" if codes and text else text)
        return "".join(out)

    def print(self, *lines) -> None:
        """Each line a list of runs (or a plain string)."""
        try:
            for line in lines:
                self.stream.write((self.styled(line) if isinstance(line, list) else line) + "\n")
        except BrokenPipeError:  # the reader has gone (`mhajudge list | head`): stop, quietly
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
            except (OSError, AttributeError, ValueError):
                pass
            raise SystemExit(0) from None


def _width() -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return max(shutil.get_terminal_size((80, 24)).columns, 20)


def _wants_colour(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM", "") in ("dumb", "unknown"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def runs(text: str, style: str = "") -> list:
    return [(text, style)]


MARKUP = re.compile(r"\[(/?)((?:bold|dim|italic|red|green|yellow|blue|magenta|cyan| )*)\]")


def from_markup(text: str, style: str = "") -> list:
    """Runs from text with Rich's style tags (``[bold]x[/bold]``, ``[/]``) for the styles
    above; any other bracket is text."""
    out, stack, at = [], [style], 0
    for m in MARKUP.finditer(text):
        if m.group(2).strip() == "" and not m.group(1):
            continue  # "[ ]" is text
        out.append((text[at:m.start()], " ".join(stack)))
        if m.group(1):
            if len(stack) > 1:
                stack.pop()
        else:
            stack.append(m.group(2).strip())
        at = m.end()
    out.append((text[at:], " ".join(stack)))
    return [(t, s.strip()) for t, s in out if t]


def length(line) -> int:
    return sum(len(t) for t, _ in line)


def wrap(cell: list, width: int) -> list[list]:
    """A cell's runs as lines of at most ``width`` characters, broken at spaces; a word
    longer than a line is broken where it must be."""
    words: list[list] = [[]]  # each word a list of runs; a space ends a word
    for text, style in cell:
        for i, part in enumerate(text.split(" ")):
            if i:
                words.append([])
            if part:
                words[-1].append((part, style))
    lines: list[list] = [[]]
    for word in (w for w in words if w):
        size = length(word)
        if lines[-1] and length(lines[-1]) + 1 + size > width:
            lines.append([])
        while size > width:  # longer than any line: as much as fits (after a hyphen if one fits), then on
            room = width - length(lines[-1]) - (1 if lines[-1] else 0)
            hyphen = "".join(t for t, _ in word).rfind("-", 0, room)
            head, word = _split(word, hyphen + 1 if hyphen > 0 else room)
            if lines[-1] and head:
                lines[-1].append((" ", ""))
            lines[-1].extend(head)
            lines.append([])
            size = length(word)
        if lines[-1]:
            lines[-1].append((" ", ""))
        lines[-1].extend(word)
    return lines


def _hyphen_parts(word: str) -> list[str]:
    """Where :func:`wrap` may break a long word: after each hyphen ("self-", "attention")."""
    parts = word.split("-")
    return [p + "-" for p in parts[:-1]] + parts[-1:]


def _split(word: list, at: int) -> tuple[list, list]:
    head, tail, used = [], [], 0
    for text, style in word:
        if used >= at:
            tail.append((text, style))
        elif used + len(text) <= at:
            head.append((text, style))
            used += len(text)
        else:
            head.append((text[:at - used], style))
            tail.append((text[at - used:], style))
            used = at
    return head, tail


def pad(line: list, width: int) -> list:
    return line + [(" " * (width - length(line)), "")]


def fit_columns(natural: list[int], least: list[int], ratios: list[int], room: int) -> list[int]:
    """Column widths within ``room``: each as wide as its widest cell if all fit; else the
    columns with a ratio share what the others leave, in proportion, none wider than its
    widest cell (what one does not need goes to the rest) and, while there is room, none
    narrower than its longest word. The columns without a ratio are kept whole."""
    if sum(natural) <= room:
        return list(natural)
    flex = [i for i, r in enumerate(ratios) if r]
    widths = [n if not r else 0 for n, r in zip(natural, ratios)]
    left = max(room - sum(widths), len(flex))
    floors = {i: min(least[i], natural[i]) for i in flex}
    while sum(floors.values()) > left:  # not even the longest words fit: the longest give way first,
        widest = max(flex, key=lambda i: floors[i])  # so a short column (list's verdicts) stays whole
        if floors[widest] <= 4:
            break
        floors[widest] -= 1
    open_ = list(flex)
    while open_:
        share = left - sum(widths[i] for i in flex if i not in open_)
        total = sum(ratios[i] for i in open_)
        capped = [i for i in open_ if natural[i] <= max(floors[i], share * ratios[i] // total)]
        if not capped:
            for i in open_:
                widths[i] = max(floors[i], share * ratios[i] // total)
            break
        for i in capped:
            widths[i] = natural[i]
            open_.remove(i)
    while sum(widths[i] for i in flex) > left:  # the floors took more than there is: the widest give way
        widest = max(flex, key=lambda i: widths[i])
        if widths[widest] <= 1:
            break
        widths[widest] -= 1
    return widths


def table(out: Out, headers: list[str], rows: list[list], ratios: list[int], title: str = "") -> None:
    """A table as Rich draws one by default: a bold head in heavy lines, then the rows;
    columns with a ratio of 0 are kept whole, the others wrap."""
    cells = [[runs(h, "bold")] + [row[i] for row in rows] for i, h in enumerate(headers)]
    natural = [max(length(c) for c in col) for col in cells]
    least = [max((len(part) for c in col for t, _ in c for w in t.split(" ") for part in _hyphen_parts(w)),
                 default=1) for col in cells]
    widths = fit_columns(natural, least, ratios, out.width - 3 * len(headers) - 1)
    if title:
        out.print([(title, "italic")])

    def rule(chars):
        left, fill, cross, right = chars
        out.print(left + cross.join(fill * (w + 2) for w in widths) + right)

    def row(cols, bar):
        out.print(*beside(cols, widths, bar[0] + " ", " " + bar[1] + " ", " " + bar[2]))

    rule(HEAVY_HEAD[0])
    row([c[0] for c in cells], HEAVY_HEAD[1])
    rule(HEAVY_HEAD[2])
    for r in range(1, len(cells[0])):
        row([c[r] for c in cells], HEAVY_HEAD[3])
    rule(HEAVY_HEAD[4])


def panel(out: Out, title: str, lines: list[list]) -> None:
    """Lines in a rounded box the width of the terminal, titled at its top left."""
    inner = out.width - 4
    top_left, fill, top_right = ROUNDED[0]
    head = f"{top_left}{fill} {title} "
    out.print([(head + fill * max(out.width - len(head) - 1, 0) + top_right, "dim")])
    for line in lines:
        out.print([(ROUNDED[1] + " ", "dim")] + pad(line, inner) + [(" " + ROUNDED[1], "dim")])
    bottom_left, fill, bottom_right = ROUNDED[2]
    out.print([(bottom_left + fill * (out.width - 2) + bottom_right, "dim")])


def columns(cells: list[list], widths: list[int | None], room: int, gap: int = 1) -> list[list]:
    """Rows of cells side by side; a width of None takes what the others leave and wraps."""
    fixed = sum(w for w in widths if w is not None) + gap * (len(widths) - 1)
    widths = [w if w is not None else max(room - fixed, 10) for w in widths]
    return [line for row in cells for line in beside(row, widths, sep=" " * gap, pad_last=False)]


def beside(cells: list[list], widths: list[int], left: str = "", sep: str = " ", right: str = "",
           pad_last: bool = True) -> list[list]:
    """Cells wrapped to their widths and set side by side, line by line, between
    ``left``, ``sep`` and ``right``."""
    wrapped = [wrap(c, w) for c, w in zip(cells, widths)]
    lines = []
    for k in range(max(len(x) for x in wrapped)):
        line = [(left, "")]
        for j, (x, w) in enumerate(zip(wrapped, widths)):
            part = x[k] if k < len(x) else []
            line += ([(sep, "")] if j else []) + (pad(part, w) if pad_last or j < len(widths) - 1 else part)
        lines.append(line + [(right, "")])
    return lines
