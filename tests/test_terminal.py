"""mhajudge.terminal: the layout --help and list use instead of Rich."""

import io
import re

from hypothesis import given, settings, strategies as st

from mhajudge.terminal import Out, fit_columns, from_markup, length, table, wrap

WORD = st.text(alphabet="abcdefghij-,:()", min_size=1, max_size=25)
CELL = st.lists(WORD, min_size=1, max_size=8).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(CELL, st.integers(1, 60))
def test_wrap_keeps_every_character_within_the_width(text, width):
    lines = wrap([(text, "")], width)
    assert all(length(line) <= width for line in lines)
    joined = "".join(t for line in lines for t, _ in line)
    assert joined.replace(" ", "") == text.replace(" ", "")  # nothing lost, nothing made up
    if all(len(w) <= width for w in text.split()):
        assert " ".join("".join(t for t, _ in line) for line in lines) == " ".join(text.split())  # words whole


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.integers(0, 3)), min_size=1, max_size=6), st.integers(20, 200))
def test_columns_fit_the_room_when_the_whole_columns_do(spec, room):
    natural = [n for n, _ in spec]
    ratios = [r for _, r in spec]
    least = [max(1, n // 2) for n in natural]
    widths = fit_columns(natural, least, ratios, room)
    assert all(w >= 1 for w in widths) and all(w <= n for w, n in zip(widths, natural))
    assert all(w == n for w, n, r in zip(widths, natural, ratios) if not r)  # kept whole
    fixed = sum(n for n, r in zip(natural, ratios) if not r)
    if fixed + sum(1 for r in ratios if r) <= room:
        assert sum(widths) <= room


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.from_regex(r"[a-z][a-z-]{0,23}", fullmatch=True), CELL, CELL), min_size=1, max_size=6),
       st.integers(70, 160))
def test_a_table_fits_the_terminal_and_keeps_ids_whole(rows, width):
    out = Out(io.StringIO(), width=width, colour=False)
    table(out, ["id", "title", "tags"], [[[(i, "")], [(t, "")], [(g, "")]] for i, t, g in rows], ratios=[0, 3, 2])
    text = out.stream.getvalue()
    assert max(len(line) for line in text.splitlines()) <= width
    firsts = [line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│")]
    assert [f for f in firsts if f] == [i for i, _, _ in rows]  # each id on one line, whole


def test_markup_becomes_styles_and_other_brackets_stay():
    assert from_markup("run [bold]mhajudge list[/bold] [OPTIONS]") == [
        ("run ", ""), ("mhajudge list", "bold"), (" [OPTIONS]", "")]
    coloured = Out(io.StringIO(), width=40, colour=True).styled(from_markup("[green]ok[/green] fine"))
    assert coloured == "\x1b[32mok\x1b[0m fine"
    assert re.sub("\x1b\\[[0-9;]*m", "", coloured) == "ok fine"


def test_a_closed_pipe_ends_the_output_quietly(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    p = subprocess.run(f"'{sys.executable}' -m mhajudge list | head -1", shell=True, capture_output=True,
                       text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "MHAJUDGE_HOME": str(tmp_path)}, timeout=60)
    assert p.stdout.strip() == "mhajudge problems" and p.stderr == ""


def test_a_long_word_breaks_after_a_hyphen_and_short_columns_stay_whole():
    """`list` at 80 columns printed "self-attenti / on" and "accep / ted" (a review of
    2026-12-03): a word too long for its line now breaks after a hyphen where one fits,
    and when even the longest words cannot all fit, the longest give way first."""
    assert ["".join(t for t, _ in line) for line in wrap([("Causal multi-head self-attention", "")], 10)] == \
        ["Causal", "multi-head", "self-", "attention"]
    out = Out(io.StringIO(), width=80, colour=False)
    rows = [[[("sliding-window-attention", "")], [("FlashAttention: tiled self-attention", "")], [("hard", "")],
             [("attention, numerical-stability, masking", "")], [("accepted 18/18", "")]]]
    table(out, ["id", "title", "difficulty", "tags", "best"], rows, ratios=[0, 3, 0, 2, 1])
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in out.stream.getvalue().splitlines()
             if line.startswith("│")]
    assert cells[0][4] == "accepted" and "18/18" in [c[4] for c in cells], cells
    assert "self-" in [c[1] for c in cells] and "numerical-" in [c[3] for c in cells], cells
