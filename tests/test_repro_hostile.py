"""Hostile inputs to reproducing a case: ``try --args`` files and ``run --save-failing``.

Found by a hostile pass on 2026-12-04: an ``--args X.py`` ran in the judge's own
interpreter (the secret in its environment, ``import mhajudge`` possible, its
processes left running); a 200 KB ``.npz`` unpacked to gigabytes in the judge; and
``--save-failing`` wrote through a symlink planted in a shared folder.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile

import numpy as np
import pytest

from conftest import SOLUTIONS, run_cli

GOOD = SOLUTIONS / "sdpa" / "correct_einsum.py"
WRONG = SOLUTIONS / "sdpa" / "no_scale.py"
bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")


def _npy(a) -> bytes:
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


@bwrap
def test_an_args_script_runs_as_candidate_code(tmp_path):
    """With a secret set, the script is isolated: no secret, no mhajudge, not the judge's uid."""
    script = tmp_path / "steal.py"
    script.write_text("import os, sys\n"
                      "try:\n    import mhajudge\n    got = 'imported'\nexcept ImportError:\n    got = 'none'\n"
                      "sys.exit(f\"secret={os.environ.get('MHAJUDGE_SECRET')} mhajudge={got} uid={os.getuid()}\")\n")
    code, out, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", script, env={"MHAJUDGE_SECRET": "topsecret"})
    assert code == 2 and "secret=None" in err and "mhajudge=none" in err, out + err
    assert "topsecret" not in out + err
    if os.geteuid() == 0:
        assert "uid=0" not in err


def test_an_args_script_leaves_nothing_running(tmp_path):
    """A double fork that detaches (setsid) is killed when the script ends."""
    marker = f"mhajudge-test-{os.getpid()}-{id(tmp_path)}"
    script = tmp_path / "daemon.py"
    script.write_text("import os, time, numpy as np\n"
                      "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                      f"        import sys; sys.argv = [{marker!r}]\n"
                      f"        open({str(tmp_path / 'alive')!r}, 'w').write(str(os.getpid()))\n"
                      "        time.sleep(120)\n    os._exit(0)\n"
                      "import time; time.sleep(0.3)\n"
                      "Q = K = V = np.ones((1, 2, 2))\n")
    code, out, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", script, "--no-isolate")
    assert code == 0 and "ACCEPTED" in out, out + err
    pid = int((tmp_path / "alive").read_text())
    assert not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split()[2]


def test_an_args_script_that_prints_bad_bytes_is_a_clear_error(tmp_path):
    script = tmp_path / "bad.py"
    script.write_text("import sys\nsys.stderr.buffer.write(b'\\xff\\xfe\\x1b[31mred')\nsys.exit(3)\n")
    code, out, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", script, "--no-isolate")
    assert code == 2 and "failed" in err and "\x1b" not in err and "internal error" not in err, err


def test_an_unused_huge_entry_is_never_read(tmp_path):
    """A zip bomb beside the real arguments: only entries named like a parameter are read."""
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n in "QKV":
            z.writestr(f"{n}.npy", _npy(np.ones((1, 2, 2))))
        z.writestr("junk.npy", _npy(np.zeros(20_000_000)))  # 160 MB unpacked, 150 KB packed
    assert bomb.stat().st_size < 1 << 20
    from mhajudge.trying import load_args

    import tracemalloc

    tracemalloc.start()
    args = load_args(bomb, ["Q", "K", "V"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert set(args) == {"Q", "K", "V"} and peak < 20 << 20


@pytest.mark.parametrize("kind", ["claims a huge shape", "is too big unpacked", "is not a zip", "is not .npy",
                                  "holds objects"])
def test_a_malformed_npz_is_a_clear_error(tmp_path, kind):
    path = tmp_path / "args.npz"
    if kind == "is not a zip":
        path.write_bytes(b"PK\x03\x04garbage")
    else:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
            if kind == "claims a huge shape":
                h = io.BytesIO()
                np.lib.format.write_array_header_1_0(h, {"descr": "<f8", "fortran_order": False,
                                                         "shape": (10**6,) * 3})
                z.writestr("Q.npy", b"\x93NUMPY\x01\x00" + h.getvalue()[8:] + b"\0" * 64)
            elif kind == "is too big unpacked":
                z.writestr("Q.npy", _npy(np.zeros((2, 8_000, 9_000))))  # 1.1 GiB of zeros, a few MB packed
            elif kind == "is not .npy":
                z.writestr("Q", b"hello")
            else:
                z.writestr("Q.npy", _npy(np.array([object()], dtype=object)))
    code, out, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", path)
    assert code == 2 and "error:" in err and "internal error" not in err and "Traceback" not in err, err


def test_an_npz_of_unnamed_arrays_says_how_to_name_them(tmp_path):
    np.savez(tmp_path / "pos.npz", np.eye(2), np.eye(2), np.eye(2))
    code, _, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", tmp_path / "pos.npz")
    assert code == 2 and "np.savez(path, Q=Q, K=K, V=V)" in err, err


def test_save_failing_replaces_a_planted_symlink_never_writes_through_it(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    shared = tmp_path / "shared"
    (shared / "two_queries_three_keys").mkdir(parents=True)
    (shared / "two_queries_three_keys" / "Q.npy").symlink_to(victim)
    code, out, err = run_cli("run", WRONG, "--samples", "--save-failing", shared)
    assert code == 1 and "saved the inputs" in err, err
    assert victim.read_text() == "precious"
    q = shared / "two_queries_three_keys" / "Q.npy"
    assert not q.is_symlink() and np.load(q).ndim == 2
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(shared)
    shared.mkdir()
    (shared / "two_queries_three_keys").symlink_to(elsewhere)
    code, out, err = run_cli("run", WRONG, "--samples", "--save-failing", shared)
    assert code == 1 and "not followed" in err and "WRONG-ANSWER" in out, out + err  # the verdict stands
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("problem", ["generate", "beam-search"])
def test_save_failing_then_try_reproduces_dict_and_model_arguments(tmp_path, problem):
    """generate's params (a dict) and beam-search's step (the judge's model) are saved by
    their arrays, and `try --args DIR/<case>` gives the same failure again."""
    wrong = next(f for f in sorted((SOLUTIONS / problem).glob("*.py"))
                 if "# expect-verdict: wrong-answer" in f.read_text() and "hostile" not in f.name)
    code, out, err = run_cli("run", wrong, "--samples", "--save-failing", tmp_path / "saved", "--format", "json")
    assert code == 1 and "saved the inputs" in err, err
    (case_dir,) = (tmp_path / "saved").iterdir()
    assert any(p.is_dir() for p in case_dir.iterdir())  # the dict or the model, as a folder of arrays
    code, out, err = run_cli("try", wrong, "--problem", problem, "--args", case_dir)
    assert code == 1 and "WRONG-ANSWER" in out, out + err


def test_save_failing_with_watch_is_refused_up_front(tmp_path):
    code, _, err = run_cli("run", WRONG, "--watch", "--save-failing", tmp_path / "s")
    assert code == 2 and "--watch" in err and not (tmp_path / "s").exists()


# -- found by a review of the above (2026-12-04) -----------------------------------------

def _zip_with(path, name: str, data: bytes, compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr(name, data)


def _header(descr: str, shape) -> bytes:
    h = io.BytesIO()
    np.lib.format.write_array_header_1_0(h, {"descr": descr, "fortran_order": False, "shape": shape})
    return b"\x93NUMPY\x01\x00" + h.getvalue()[8:]


@pytest.mark.parametrize("descr", ["|V0", "<U4", "|S2", "<M8[s]", "<c16"])
def test_an_entry_that_is_not_numbers_is_refused_before_it_is_read(tmp_path, descr):
    """|V0 of shape (10**12,) is 0 bytes: it passed the size check, and copying it looped
    10**12 times in C, deaf to Ctrl-C and SIGTERM."""
    path = tmp_path / "v0.npz"
    _zip_with(path, "Q.npy", _header(descr, (10**12,)))
    code, _, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", path, timeout=60)
    assert code == 2 and "not an array of numbers" in err, err


def test_a_script_that_writes_its_own_archive_meets_the_same_checks(tmp_path):
    script = tmp_path / "bypass.py"
    script.write_text("import __main__, os, io, zipfile\n"
                      "b = io.BytesIO()\n"
                      "with zipfile.ZipFile(b, 'w') as z:\n"
                      f"    z.writestr('Q.npy', {_header('|V0', (10**12,))!r})\n"
                      "os.write(__main__.out, b.getvalue())\nos._exit(0)\n")
    code, _, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", script, "--no-isolate", timeout=60)
    assert code == 2 and "not an array of numbers" in err, err


def test_a_corrupt_compressed_entry_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.npz"
    _zip_with(path, "Q.npy", _npy(np.ones(1000)), zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    start = data.index(b"Q.npy") + 5
    data[start + 10:start + 40] = b"\xff" * 30  # inside the deflate stream
    path.write_bytes(bytes(data))
    code, _, err = run_cli("try", GOOD, "--problem", "sdpa", "--args", path)
    assert code == 2 and "internal error" not in err and "error:" in err, err


def test_a_detached_process_is_killed_when_the_script_runs_out_of_time(tmp_path):
    """Not isolated, no uid of its own: the supervisor's session was killed at the time
    limit, and a process that had left it (setsid) lived on. Its control group has it."""
    from mhajudge.sandbox import cgroup
    from mhajudge.sandbox.script import ScriptError, run_script

    probe = cgroup.Group(1 << 30, 64)
    has_groups = bool(probe.dirs)
    probe.remove()
    if not has_groups:
        pytest.skip("no control groups here to find a detached process by")
    alive = tmp_path / "alive"
    source = ("import os, time\n"
              "if os.fork() == 0:\n    os.setsid()\n"
              f"    open({str(alive)!r}, 'w').write(str(os.getpid()))\n    time.sleep(120)\n"
              "time.sleep(60)\n")
    with pytest.raises(ScriptError, match="took more than"):
        run_script(source, ["Q"], isolate=False, time_s=1.5)
    pid = int(alive.read_text())
    assert not os.path.exists(f"/proc/{pid}") or "Z" in open(f"/proc/{pid}/stat").read().split()[2]


def test_save_failing_leaves_no_earlier_file_in_the_case_folder(tmp_path):
    saved = tmp_path / "saved"
    code, _, err = run_cli("run", WRONG, "--samples", "--save-failing", saved)
    (case,) = saved.iterdir()
    np.save(case / "mask.npy", np.zeros((2, 3), bool))  # planted (or left by another problem's save)
    code, _, err = run_cli("run", WRONG, "--samples", "--save-failing", saved)
    assert code == 1 and not (case / "mask.npy").exists() and {p.stem for p in case.glob("*.npy")} == {"Q", "K", "V"}
    if os.geteuid() == 0:  # a case folder someone else made is not written in
        shutil.rmtree(saved)
        (saved / case.name).mkdir(parents=True)
        os.chown(saved / case.name, 65534, 65534)
        code, _, err = run_cli("run", WRONG, "--samples", "--save-failing", saved)
        assert code == 1 and "someone else's" in err and not list((saved / case.name).iterdir())


def test_a_script_that_hands_back_too_much_is_refused_and_a_small_one_whole():
    from mhajudge.sandbox.script import ScriptError, run_script

    with pytest.raises(ScriptError, match="handed back more than"):
        run_script("import numpy as np\nQ = np.random.rand(100_000)\n", ["Q"], isolate=False, limit_bytes=64 << 10)
    data = run_script("import numpy as np\nQ = np.arange(5000.0)\n", ["Q"], isolate=False, limit_bytes=64 << 10)
    assert 32 << 10 < len(data) <= 64 << 10  # more than half the cap: kept whole, head and tail
    with zipfile.ZipFile(io.BytesIO(data)) as z, z.open("Q.npy") as f:
        assert np.array_equal(np.lib.format.read_array(f), np.arange(5000.0))
