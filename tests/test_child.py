"""The child makes ``{"$rng": s}`` markers into generators, and reads every frame."""

import time

import numpy as np

from mhajudge.sandbox.programs import with_generators


def test_child_turns_rng_markers_into_generators():
    made = with_generators({"vary": [{"rng": {"$rng": 17}}, {"seed": 3}], "args": [np.zeros(2), ({"$rng": 5},)]})
    g = made["vary"][0]["rng"]
    assert isinstance(g, np.random.Generator)
    assert g.random() == np.random.default_rng(17).random()
    assert made["vary"][1] == {"seed": 3} and isinstance(made["args"][1][0], np.random.Generator)


def test_child_reads_a_frame_written_just_before_the_grandchild_exits(monkeypatch):
    """The false-rejection benchmark once lost an answer: the grandchild wrote its frame and
    exited between the child's poll (which timed out) and its waitpid. The pipe must be read
    again after the exit is seen."""
    import os
    import select as select_mod

    from mhajudge.sandbox import fork as fork_mod, wire

    marker = b"\x00frame-marker\x00"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the grandchild: answer, then exit
        os.close(r)
        os.write(w, marker + wire.pack({"status": "ok"}, {"token": np.asarray(3)}))
        os._exit(0)
    os.close(w)
    real_select = select_mod.select
    polls = []

    def poll_that_times_out_first(rlist, wlist, xlist, timeout=None):
        polls.append(timeout)
        if len(polls) == 1:
            os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)   # it has written and exited...
            return [], [], []                                     # ...but this poll saw nothing
        return real_select(rlist, wlist, xlist, timeout)

    monkeypatch.setattr(fork_mod.select, "select", poll_that_times_out_first)
    zygote = fork_mod.Forker(wire)
    try:
        reply = zygote._collect(r, pid, marker, time.perf_counter(), 5.0)
    finally:
        os.close(r)
    assert "ended" not in reply and reply["reply"]["status"] == "ok", reply
    assert int(reply["payload"]["token"]) == 3


def test_memory_left_by_the_poison_reads_nan_in_an_uninitialised_array():
    """Before a deterministic program the child frees NaN-filled blocks, so np.empty read
    before it is written gives NaN (a wrong answer) instead of leftovers that may be finite."""
    from mhajudge.sandbox.programs import POISON_LARGE, POISON_SMALL, poison_free_memory

    for n in (8, 96, 1024) + POISON_LARGE[:3]:
        assert n in POISON_SMALL or n in POISON_LARGE
        poison_free_memory()
        assert np.isnan(np.empty(n // 8)).any(), n


def test_collapse_to_huge_pages_keeps_memory_and_forks_sound():
    """The torch zygote backs its heap with huge pages before forking cases: what was in
    memory is unchanged, a fork still copies on write (the parent never sees the child's
    writes), and where the kernel can (MADV_COLLAPSE, Linux 6.1+) the memory is collapsed."""
    import os

    import numpy as np

    from mhajudge.sandbox import fork as fork_mod

    data = np.arange(6 << 20, dtype=np.uint8)  # 6 MiB resident on the heap or in an anonymous map
    before = int(data.sum(dtype=np.int64))
    done = fork_mod.collapse_to_huge_pages(budget_s=2.0)
    assert int(data.sum(dtype=np.int64)) == before
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        data[:] = 7  # in the child only
        os.write(w, b"1" if int(data[123]) == 7 else b"0")
        os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"1"
    os.waitpid(pid, 0)
    os.close(r)
    assert int(data.sum(dtype=np.int64)) == before
    with open("/proc/self/smaps_rollup") as f:
        huge = next((int(line.split()[1]) for line in f if line.startswith("AnonHugePages:")), 0)
    if done:  # the kernel took MADV_COLLAPSE (Linux 6.1+, huge pages free)
        assert huge > 0, "collapsed bytes were reported but no huge page is mapped"
