"""``mhajudge``, ``--help``, ``--version`` and ``list`` without Typer: the same text."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli


def _plain(*args, quick=True, columns=80, home=None):
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "MHAJUDGE_NO_QUICK")}
    env.update(COLUMNS=str(columns), TERM="dumb")
    if not quick:
        env["MHAJUDGE_NO_QUICK"] = "1"
    if home:
        env["MHAJUDGE_HOME"] = str(home)
    p = subprocess.run([sys.executable, "-m", "mhajudge", *args], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=120)
    return p.returncode, p.stdout, p.stderr


BOX = str.maketrans({c: " " for c in "╭╮╰╯│─┏┓┗┛┃━┡┩┳┻╇└┘┴┬├┤"})


def _words(text: str) -> list[str]:
    """What a help says, word by word, wherever its lines break and its boxes are."""
    return text.translate(BOX).split()


@pytest.mark.parametrize("columns", [60, 80, 132])
@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_help_is_typers_help(args, columns):
    """The quick help (no Typer, no Rich) says what Typer's says, word for word, in its
    order, within the terminal's width, and exits as it does."""
    quick, typer = _plain(*args, columns=columns), _plain(*args, columns=columns, quick=False)
    assert quick[0] == typer[0] and quick[2] == typer[2] == ""
    assert _words(quick[1]) == _words(typer[1])
    # Above the panels, line for line as Typer's (its lines padded to the width with spaces).
    head = [line.rstrip() for line in typer[1].split("╭─ Options")[0].splitlines()]
    assert quick[1].split("╭─ Options")[0].splitlines() == head
    assert max(len(line) for line in quick[1].splitlines()) <= columns
    assert quick[1].startswith("\n Usage: ") and quick[1].count("╭─ Options ─") == quick[1].count("╭─ Commands ─") == 1
    assert quick[1].endswith("╯\n\n") == (args != [])  # --help ends with an empty line, as Click's does


def test_help_in_colour_only_where_wanted(monkeypatch):
    import io

    from mhajudge.quick import print_help
    from mhajudge.terminal import Out

    coloured, plain = io.StringIO(), io.StringIO()
    print_help(Out(coloured, width=80, colour=True))
    print_help(Out(plain, width=80, colour=False))
    assert "\x1b[1;36mrun\x1b[0m" in coloured.getvalue() and "\x1b" not in plain.getvalue()
    assert _words(__import__("re").sub("\x1b\\[[0-9;]*m", "", coloured.getvalue())) == _words(plain.getvalue())
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Out(io.StringIO()).colour is False  # NO_COLOR wins
    monkeypatch.delenv("NO_COLOR")
    assert Out(io.StringIO()).colour is True


def test_quick_commands_load_neither_rich_nor_typer_nor_numpy(tmp_path):
    code = ("import sys\nsys.argv = ['mhajudge', '{}']\nfrom mhajudge.cli import command_line\n"
            "try:\n    command_line()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('rich', 'typer', 'click', 'numpy', 'yaml') if m in sys.modules))")
    env = {**os.environ, "COLUMNS": "80", "MHAJUDGE_HOME": str(tmp_path)}
    assert _plain("list", home=tmp_path)[0] == 0  # the index is made (that reads the YAML specs once)
    for arg in ("--help", "list", "--version"):
        p = subprocess.run([sys.executable, "-c", code.format(arg)], capture_output=True, text=True, cwd=ROOT,
                           env=env, timeout=120)
        assert p.stdout.strip().splitlines()[-1] == "[]", (arg, p.stdout[-300:], p.stderr[-500:])


def test_the_commands_are_the_apps_commands():
    """A command added to the app appears in the quick help, in the app's order."""
    from mhajudge.cli import load_app
    from mhajudge.quick import commands

    app = load_app()
    registered = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands if not c.hidden]
    assert [name for name, _ in commands()] == registered
    assert dict(commands())["run"] == "Judge one file against the sample and hidden cases."


def test_list_is_the_same_table_and_caches_the_index(tmp_path):
    code, quick, _ = _plain("list", home=tmp_path)
    assert code == 0 and "sdpa" in quick
    assert len(list((tmp_path / "cache").glob("bank-index-*.json"))) == 1
    assert _plain("list", home=tmp_path) == (0, quick, "")  # from the cache
    assert _plain("list", home=tmp_path, quick=False) == (0, quick, "")


def test_a_changed_spec_refreshes_the_index(tmp_path, monkeypatch):
    from mhajudge import listing

    monkeypatch.setenv("MHAJUDGE_HOME", str(tmp_path))
    first = listing.index()
    (cache,) = (tmp_path / "cache").glob("bank-index-*.json")
    cache.write_text(cache.read_text().replace(first[0]["title"], "a stale title"))
    assert listing.index()[0]["title"] == "a stale title"  # same stamp: the cache is used
    monkeypatch.setattr(listing, "_stamp", lambda folder: [["changed.yaml", 1, 1]])
    assert listing.index() == first  # another stamp: the specs are read again


@pytest.mark.parametrize("garbage", ["", "not json", '{"stamp": 1}', '{"stamp": [], "problems": [{"id": 1}]}', "[]"])
def test_a_broken_cache_is_rebuilt(tmp_path, monkeypatch, garbage):
    from mhajudge import listing

    monkeypatch.setenv("MHAJUDGE_HOME", str(tmp_path))
    truth = listing.index()
    (cache,) = (tmp_path / "cache").glob("bank-index-*.json")
    cache.write_text(garbage)
    assert listing.index() == truth
    assert cache.read_text() != garbage  # and written anew


def test_an_unwritable_home_still_lists(tmp_path):
    home = tmp_path / "file-not-folder"
    home.write_text("")
    code, out, _ = _plain("list", home=home)
    assert code == 0 and "mha-projected" in out


def test_version_and_no_args():
    from mhajudge import __version__

    assert _plain("--version") == (0, f"mhajudge {__version__}\n", "")
    assert _plain("--version", quick=False)[:2] == (0, f"mhajudge {__version__}\n")
    assert _plain()[0] == 2


def test_quick_commands_import_neither_typer_nor_numpy():
    probe = ("import sys, io, contextlib\n"
             "from mhajudge.quick import answer\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    for argv in (['--help'], ['list'], ['--version']):\n"
             "        assert answer(argv) == 0\n"
             "print(sorted(m for m in ('typer', 'click', 'numpy', 'torch') if m in sys.modules))\n")
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_anything_else_goes_to_the_full_command_line():
    from mhajudge.quick import answer

    for argv in (["list", "--help"], ["run"], ["--help", "run"], ["show", "sdpa"], ["lists"]):
        assert answer(argv) is None
    code, _, err = run_cli("lists")
    assert code == 2 and "No such command" in err
