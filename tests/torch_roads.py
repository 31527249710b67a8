"""Run as a script: install the torch track's bans as the child does, then try every road
to a banned function a hostile candidate might take, and the ordinary operations a
solution needs. Prints one JSON object ``{road: "refused" | "allowed" | "error: ..."}``,
where ``refused`` means the call raised *and* was recorded (so catching it gains
nothing). Used by tests/test_torch_track.py; one process for all roads.
"""

import importlib
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("torch_track", ROOT / "mhajudge" / "sandbox" / "torch_track.py")
track = importlib.util.module_from_spec(spec)
spec.loader.exec_module(track)
sys.path.insert(0, str(ROOT))
from mhajudge.track import TRACK_FORBIDDEN  # noqa: E402

BANNED = list(TRACK_FORBIDDEN) + ["torch.softmax", "torch.nn.functional.softmax", "torch.Tensor.softmax",
                                  "torch.log_softmax", "torch.nn.functional.log_softmax", "torch.nn.Softmax",
                                  "torch.autograd", "torch.Tensor.backward",
                                  "torch.nn.functional.layer_norm", "torch.nn.LayerNorm"]
assert track.setup(BANNED) is None
track.install_module_guard()
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

x = torch.randn(2, 3, 4, dtype=torch.float64)
q = torch.randn(1, 2, 3, 4, dtype=torch.float64)


def grad_x():
    return x.clone().requires_grad_()


def reloaded_sdpa():
    g = importlib.import_module("torch.nn.functional")
    try:
        g = importlib.reload(g)  # torch refuses a second docstring for its builtins halfway through
    except RuntimeError:
        pass
    return g.scaled_dot_product_attention(q, q, q)


def mha_subclass():
    base = [c for c in torch.nn.Module.__subclasses__() if c.__name__ == "MultiheadAttention"][0]
    return base(4, 2, dtype=torch.float64)(x, x, x)


def engine_direct():
    y = (grad_x() * 2).sum()
    engine = type(torch.autograd.variable.Variable._execution_engine)
    return engine().run_backward((y,), (torch.ones(()),), False, False, (), False, False, ())


def engine_base():
    y = (grad_x() * 2).sum()
    engine = torch.autograd.variable.Variable._execution_engine
    return type(engine).__dict__["run_backward"](engine, (y,), (torch.ones(()),), False, False, (), False, False, ())


def in_inference_mode():
    with torch.inference_mode():
        return F.scaled_dot_product_attention(q, q, q)


def below_autograd():
    with torch._C._AutoDispatchBelowAutograd():
        return torch._C._nn.scaled_dot_product_attention(q, q, q)


def forward_ad():
    import torch.autograd.forward_ad as fwAD

    with fwAD.dual_level():
        return fwAD.make_dual(x, torch.ones_like(x))


ROADS = {
    # scaled dot-product attention, every name it has
    "F.scaled_dot_product_attention": lambda: F.scaled_dot_product_attention(q, q, q),
    "torch._C._nn.scaled_dot_product_attention": lambda: torch._C._nn.scaled_dot_product_attention(q, q, q),
    "getattr with a built name": lambda: getattr(torch._C._nn, "scaled_dot_" + "product_attention")(q, q, q),
    "importlib F": lambda: importlib.import_module("torch.nn.functional").scaled_dot_product_attention(q, q, q),
    "reloaded F": reloaded_sdpa,
    "torch.ops.aten.scaled_dot_product_attention": lambda: torch.ops.aten.scaled_dot_product_attention(q, q, q),
    "aten._scaled_dot_product_attention_math": lambda: torch.ops.aten._scaled_dot_product_attention_math(q, q, q),
    "aten._scaled_dot_product_flash_attention_for_cpu":
        lambda: torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, q, q),
    "sdpa in inference_mode": in_inference_mode,
    "sdpa below autograd": below_autograd,
    "nn.MultiheadAttention": lambda: torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)(x, x, x),
    "MultiheadAttention via __subclasses__": mha_subclass,
    "F.multi_head_attention_forward": lambda: F.multi_head_attention_forward(
        x, x, x, 4, 2, None, None, None, None, False, 0.0, torch.eye(4), None),
    "nn.TransformerEncoderLayer": lambda: torch.nn.TransformerEncoderLayer(4, 2),
    "torch._native_multi_head_attention": lambda: torch._native_multi_head_attention(
        x, x, x, 4, 2, torch.zeros(12, 4, dtype=torch.float64), torch.zeros(12, dtype=torch.float64),
        torch.zeros(4, 4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64)),
    "torch.compile": lambda: torch.compile(lambda t: t),
    "import torch._dynamo": lambda: importlib.import_module("torch._dynamo"),
    "__import__ torch._inductor": lambda: __import__("torch._inductor"),
    # softmax
    "F.softmax": lambda: F.softmax(x, -1),
    "torch.softmax": lambda: torch.softmax(x, -1),
    "Tensor.softmax": lambda: x.softmax(-1),
    "torch._C._VariableFunctions.softmax": lambda: torch._C._VariableFunctions.softmax(x, -1),
    "torch._C.TensorBase.softmax": lambda: torch._C.TensorBase.softmax(x, -1),
    "torch.ops.aten._softmax": lambda: torch.ops.aten._softmax(x, -1, False),
    "torch._refs.softmax": lambda: torch._refs.softmax(x, -1),
    "decomposition table": lambda: torch._decomp.decomposition_table[torch.ops.aten._softmax.default](x, -1, False),
    "torch.special.softmax": lambda: torch.special.softmax(x, -1),
    "torch._safe_softmax": lambda: torch._safe_softmax(x, -1),
    "F.log_softmax": lambda: F.log_softmax(x, -1),
    "nn.Softmax": lambda: torch.nn.Softmax(-1)(x),
    "mkldnn softmax": lambda: x.float().to_mkldnn().softmax(-1),
    "sparse softmax": lambda: torch.sparse.softmax(x.to_sparse(), -1),
    "jit-scripted softmax": lambda: torch.jit.script(torch.nn.Softmax(-1))(x),
    # autograd
    "Tensor.backward": lambda: (grad_x() * 2).sum().backward(),
    "torch.autograd.grad": lambda: torch.autograd.grad((grad_x() * 2).sum(), [grad_x()]),
    "torch.autograd.backward": lambda: torch.autograd.backward((grad_x() * 2).sum()),
    "torch.func.grad": lambda: torch.func.grad(lambda t: (t * t).sum())(x),
    "torch.func.vjp": lambda: torch.func.vjp(lambda t: t * t, x)[1](x),
    "autograd.functional.jacobian": lambda: torch.autograd.functional.jacobian(lambda t: t * 2, x),
    "the engine's type, a new engine": engine_direct,
    "the engine type's own run_backward, unbound": engine_base,
    "forward-mode AD": forward_ad,
    # layer norm
    "F.layer_norm": lambda: F.layer_norm(x, (4,)),
    "nn.LayerNorm": lambda: torch.nn.LayerNorm(4, dtype=torch.float64)(x),
    "aten.native_layer_norm": lambda: torch.ops.aten.native_layer_norm(x, [4], None, None, 1e-5),
}

ALLOWED = {  # what a from-scratch solution uses: none of it may be refused
    "matmul and exp": lambda: torch.exp(x @ x.transpose(-2, -1)).sum(-1),
    "einsum, where, masked_fill": lambda: torch.where(torch.einsum("bld,bmd->blm", x, x) > 0, 1.0, 0.0)
    .masked_fill(torch.ones(3, 3).bool().tril() == 0, -1e9),
    "amax, logsumexp-free max": lambda: x.amax(-1) - x.max(-1).values,
    "nn.Linear": lambda: torch.nn.Linear(4, 2, dtype=torch.float64)(x),
    "F.relu, F.gelu, F.dropout in eval": lambda: F.dropout(F.gelu(F.relu(x)), 0.5, training=False),
    "requires_grad without backward": lambda: grad_x() * 2,
    "var, mean, rsqrt": lambda: (x - x.mean(-1, keepdim=True)) * torch.rsqrt(x.var(-1, keepdim=True) + 1e-5),
    "repeat_interleave, cat, stack, tril": lambda: torch.cat([x.repeat_interleave(2, 1), x], 1).tril(),
    "multinomial with a generator": lambda: torch.multinomial(torch.ones(5), 1,
                                                              generator=torch.Generator().manual_seed(0)),
    "cumsum, sort, topk, searchsorted": lambda: torch.searchsorted(torch.sort(x.flatten()).values,
                                                                   x.flatten().cumsum(0)).topk(2),
}


def attempt(fn):
    before = len(track.ATTEMPTS)
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        if len(track.ATTEMPTS) > before:
            return "refused"
        return f"error: {type(exc).__name__}: {str(exc)[:150]}"
    return "refused" if len(track.ATTEMPTS) > before else "allowed"


out = {"roads": {}, "allowed": {}}
for name, fn in ALLOWED.items():  # first: before any road leaves inference mode or the like on
    out["allowed"][name] = attempt(fn)
for name, fn in ROADS.items():
    out["roads"][name] = attempt(fn)
print(json.dumps(out))
