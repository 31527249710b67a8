"""flash-attention: the judge's expected outputs agree with PyTorch's attention, the
rising cases really move the running maximum, and the memory bound separates a tiled
solution from softmax(Q K^T) V with a wide margin."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from mhajudge import bank  # noqa: E402
from mhajudge.cases import build  # noqa: E402
from mhajudge.author import PEAK_LEAF  # noqa: E402
from mhajudge.judge import judge_file  # noqa: E402

REF = bank.reference_module("flash_attention")
CASES = build(bank.load_problem("flash-attention"), secret="oracle")


def torch_attention(Q, K, V, causal):
    q, k, v = (torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (Q, K, V))
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal).numpy()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_expected_output_matches_torch(case):
    a = case.args
    want = torch_attention(a["Q"], a["K"], a["V"], a.get("causal", False))
    tol = dict(rtol=1e-10, atol=1e-12) if case.dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    if case.program.get("memory"):
        # long cases: the judge checks sampled query rows, computed without the reference
        rows = case.meta["rows"]
        assert rows[0] == 0 and rows[-1] == want.shape[-2] - 1 and len(rows) >= 256
        np.testing.assert_allclose(case.meta["want_rows"], want[..., rows, :], **tol)
        out = REF.flash_attention(a["Q"], a["K"], a["V"], a["block_size"], a["causal"])
    else:
        out = case.expected[0]["output"]
    np.testing.assert_allclose(out, want, **tol)


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith(("rising", "float32 rising"))],
                         ids=lambda c: c.name)
def test_rising_cases_raise_the_running_maximum_in_later_blocks(case):
    a = case.args
    Q, K, b = a["Q"].astype(np.float64), a["K"].astype(np.float64), a["block_size"]
    L = Q.shape[-2]
    s = Q @ np.swapaxes(K, -1, -2) / math.sqrt(Q.shape[-1])
    if a["causal"]:
        s = np.where(np.tril(np.ones((L, L), bool)), s, -np.inf)
    block_max = np.stack([s[..., j:j + b].max(-1) for j in range(0, L, b)], -1)  # (B, H, L, blocks)
    rises = block_max[..., 1:] > np.maximum.accumulate(block_max, -1)[..., :-1]
    starts = np.arange(b, L, b)                                                  # later blocks
    visible = (starts[None, :] <= np.arange(L)[:, None]) if a["causal"] else np.ones((L, len(starts)), bool)
    sees_two_blocks = visible.any(-1)
    assert rises.any(-1)[..., sees_two_blocks].mean() > 0.9   # nearly every such row's maximum moves
    assert rises[..., visible].mean() > 0.5                # and it moves in most later blocks it sees


def test_memory_bound_margins():
    """The tiled reference stays far below the bound; the naive solution far above it."""
    long_cases = [c for c in CASES if c.program.get("memory")]
    assert {c.meta["L"] for c in long_cases} >= {4096}
    for c in long_cases:
        assert c.meta["bound"] <= c.meta["full"] // 4
    tiled = judge_file(bank.reference_dir() / "flash_attention.py", "flash-attention", diagnose=False)
    naive = judge_file(bank.reference_dir() / "solutions" / "flash-attention" / "naive_full_matrix.py",
                       "flash-attention", diagnose=False)
    for report, ok in ((tiled, True), (naive, False)):
        for r in report.cases:
            if not r.case.program.get("memory"):
                continue
            bound, full = r.case.meta["bound"], r.case.meta["full"]
            if ok:
                assert r.verdict == "accepted"
                assert int(r.answer[PEAK_LEAF]) < bound / 6, (r.name, int(r.answer[PEAK_LEAF]))  # >= 6x margin
            else:
                assert r.verdict == "memory-limit"
                assert "score matrix was materialised" in r.message


# -- the oracle the mutation benchmark calls (reference/README.md, "The oracle") --------------
ORACLE = {"flash_attention": lambda Q, K, V, block_size=64, causal=False: torch_attention(Q, K, V, causal)}
