"""``mhajudge practice`` and ``mhajudge run --watch`` in a real terminal: tmux runs
them in a pane, the test saves files, presses keys and reads the screen."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT
from mhajudge import bank
from mhajudge.history import History

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install -y tmux): the end-to-end terminal tests need it")

SOLUTIONS = ROOT / "reference" / "solutions" / "sdpa"
CORRECT = ROOT / "examples" / "sdpa_correct.py"


class Pane:
    """One command in a detached tmux session on a private server (its own socket, in
    its own temporary folder: the user's tmux sessions are never touched)."""

    def __init__(self, command: list[str], cwd: Path, env: dict, width=120, height=50):
        self.folder = tempfile.mkdtemp(prefix="mhj-tmux-")  # short: socket paths are limited
        self.socket = os.path.join(self.folder, "sock")
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        shell = (f"cd {shlex.quote(str(cwd))} && env {exports} {shlex.join(command)}; "
                 f"echo MHAJUDGE-EXIT=$?; sleep 600")
        clean = {k: v for k, v in os.environ.items() if not k.startswith("TMUX") and k != "MHAJUDGE_SECRET"}
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), shell, env=clean)

    def _tmux(self, *args, env=None):
        return subprocess.run([TMUX, "-S", self.socket, "-f", "/dev/null", *args], capture_output=True,
                              text=True, timeout=30, check=True, env=env)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t", "-S", "-300").stdout

    def visible(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t").stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "t", *keys)

    def wait_for(self, pattern: str, timeout: float = 90, visible: bool = True) -> str:
        """Poll the screen until ``pattern`` (a regex) shows; fail with the screen if not."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.visible() if visible else self.screen()
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                pytest.fail(f"{pattern!r} did not show within {timeout} s; the screen:\n{self.screen()}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run([TMUX, "-S", self.socket, "kill-server"], capture_output=True, timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def pane_factory():
    panes = []

    def make(*args, **kwargs):
        panes.append(Pane(*args, **kwargs))
        return panes[-1]

    yield make
    for p in panes:
        p.close()


def env_for(home: Path) -> dict:
    return {"MHAJUDGE_HOME": str(home), "CI": "", "MHAJUDGE_NO_RECORD": "", "PYTHONUNBUFFERED": "1"}


def save(path: Path, source: Path) -> None:
    path.write_text(source.read_text())
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # a save the poller cannot miss


def countdown(text: str) -> int:
    m, s = re.findall(r"(\d+):(\d\d) left", text)[-1]
    return int(m) * 60 + int(s)


def test_practice_in_a_real_terminal(tmp_path, pane_factory):
    home, sol = tmp_path / "home", tmp_path / "sol.py"
    pane = pane_factory([sys.executable, "-m", "mhajudge", "practice", "sdpa", "--minutes", "5", "--file", "sol.py"],
                        tmp_path, env_for(home))
    # the statement, then the live panel: the countdown and the starter's verdict on the samples
    first = pane.wait_for(r"samples: RUNTIME-ERROR\s+0/2 passed")
    assert "Implement single-head" in pane.screen()
    assert sol.read_text().startswith("# mhajudge: sdpa")
    assert "s submit" in first and 240 < countdown(first) <= 300

    save(sol, SOLUTIONS / "no_scale.py")
    wrong = pane.wait_for(r"samples: WRONG-ANSWER\s+0/2 passed")
    assert "diagnosis: no-scale" in wrong

    pane.send("h")
    hints = bank.load_problem("sdpa").hints
    pane.wait_for(re.escape(f"hint 1/{len(hints)}: {hints[0][:40]}"))

    save(sol, CORRECT)
    pane.wait_for(r"samples: ACCEPTED\s+2/2 passed")
    # the clock is running on screen: within a few seconds it shows less than at first
    # (the three saves above can all land within the same second on a quick machine)
    deadline = time.monotonic() + 10
    while countdown(pane.screen()) >= countdown(first) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert countdown(pane.screen()) < countdown(first)

    pane.send("s")
    done = pane.wait_for(r"MHAJUDGE-EXIT=\d+", timeout=180)
    assert "MHAJUDGE-EXIT=0" in done
    screen = pane.screen()
    assert re.search(r"ACCEPTED\s+18/18 cases passed", screen)
    assert re.search(r"submitted after \d+:\d\d of 5:00: accepted; recorded in your history", screen)

    [attempt] = History(home / "history.sqlite3").attempts("sdpa")
    assert (attempt.mode, attempt.verdict, attempt.groups) == ("practice", "accepted", "all")
    assert 0 < attempt.solve_s < 300 and attempt.file == str(sol.resolve())


def test_practice_time_running_out_in_a_real_terminal(tmp_path, pane_factory):
    home = tmp_path / "home"
    pane = pane_factory([sys.executable, "-m", "mhajudge", "practice", "sdpa", "--minutes", "0.05"],
                        tmp_path, env_for(home))
    pane.wait_for(r"MHAJUDGE-EXIT=\d+", timeout=180)
    screen = pane.screen()
    assert "MHAJUDGE-EXIT=1" in screen and "time is up; judged as it was after 0:03 of 0:03" in screen
    assert (tmp_path / "sdpa_practice.py").exists()  # the fresh starter it wrote
    [attempt] = History(home / "history.sqlite3").attempts()
    assert attempt.verdict == "runtime-error" and attempt.solve_s == 3 and attempt.mode == "practice"


def test_practice_give_up_restores_the_terminal(tmp_path, pane_factory):
    home = tmp_path / "home"
    pane = pane_factory(["sh", "-c", f"{shlex.quote(sys.executable)} -m mhajudge practice sdpa; stty -a"],
                        tmp_path, env_for(home))
    pane.wait_for(r"samples: RUNTIME-ERROR")
    pane.send("q")
    text = pane.wait_for(r"MHAJUDGE-EXIT=\d+", timeout=60)
    assert "gave up after" in pane.screen() and "nothing recorded" in pane.screen()
    assert re.search(r"(?<!-)icanon", text) and re.search(r"(?<!-)echo\b", text)  # cooked mode again
    assert not (home / "history.sqlite3").exists()


def test_run_watch_in_a_real_terminal(tmp_path, pane_factory):
    home, sol = tmp_path / "home", tmp_path / "sol.py"
    save(sol, SOLUTIONS / "no_scale.py")
    pane = pane_factory([sys.executable, "-m", "mhajudge", "run", "sol.py", "--watch"], tmp_path, env_for(home))
    first = pane.wait_for(r"every case judged; waiting for the next save", visible=False)  # the failing sample scrolls
    assert re.search(r"WRONG-ANSWER\s+\d+/18 cases passed", first) and "diagnosis: no-scale" in first

    save(sol, CORRECT)
    second = pane.wait_for(r"ACCEPTED\s+18/18 cases passed[\s\S]*every case judged; waiting for the next save")
    assert "save #2" in second and "WRONG-ANSWER" not in second  # the screen was cleared

    pane.send("C-c")
    done = pane.wait_for(r"MHAJUDGE-EXIT=\d+", timeout=60)
    assert "stopped watching" in done and "MHAJUDGE-EXIT=0" in done
    verdicts = [a.verdict for a in History(home / "history.sqlite3").attempts()]
    assert verdicts == ["accepted", "wrong-answer"]


def test_tab_completes_problem_ids_in_a_real_bash(tmp_path, pane_factory):
    """The README's `--install-completion`, then Tab in an interactive bash."""
    bash, script = shutil.which("bash"), Path(sys.executable).with_name("mhajudge")
    if bash is None or not script.exists():
        pytest.skip("needs bash and the installed `mhajudge` script")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "SHELL": bash, "PATH": f"{script.parent}:{os.environ.get('PATH', '')}"}
    proc = subprocess.run([str(script), "--install-completion", "bash"], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    pane = pane_factory([bash, "--rcfile", str(home / ".bashrc"), "-i"], tmp_path, env)
    pane.wait_for(r"(?m)[#$] ?$", timeout=30)  # the prompt
    pane.send("mhajudge show sd", "Tab")
    pane.wait_for(r"[#$] mhajudge show sdpa", timeout=30)
    pane.send("C-u", "mhajudge prac", "Tab")
    pane.wait_for(r"[#$] mhajudge practice", timeout=30)
