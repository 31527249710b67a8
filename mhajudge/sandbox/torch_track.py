"""The PyTorch track in the child: torch loaded once, bans installed, tensors in and out.

Loaded by path by the child (like its siblings), and only for a file on the torch
track: a NumPy file's child never imports torch. :func:`setup` runs in the trusted
zygote before any fork, so every case's process inherits a torch that is already
imported (one intra-op thread, no thread pool started: fork-safe) with its bans in
place. What it does:

- **Bans** (``torch_forbidden``, dotted names such as ``torch.softmax``,
  ``torch.nn.functional.scaled_dot_product_attention``, ``torch.Tensor.backward``,
  ``torch.autograd``, ``torch.nn.MultiheadAttention``; a ``*`` may end a name under
  ``torch.ops.aten.``). A ban is held at three levels, because the same function is
  reachable by many roads (``F.softmax``, ``torch._C._VariableFunctions.softmax``,
  ``torch._C.TensorBase.softmax``, ``torch.ops.aten._softmax``, ``getattr`` with a
  built name, a reloaded module):

  1. the **dispatcher**: every ATen operator whose name holds the banned name as a
     ``_``-separated part (``softmax`` -> ``_softmax``, ``log_softmax``,
     ``special_softmax``, ``_safe_softmax``...) gets a kernel that refuses, on every
     dispatch key it has a kernel for (CPU, autograd, composite, MKL-DNN, sparse,
     quantized, nested). Whatever Python road leads to the operator ends there;
  2. **Python namespaces**: every attribute of every loaded ``torch`` module (and of
     ``torch.Tensor``/``TensorBase``, C types included) that is the banned object, or
     that bears its name in torch's pure-Python reference implementations
     (``torch._refs``, ``torch._decomp``: softmax written with ``exp`` and ``sum``),
     and the decomposition tables keyed by a banned operator, is replaced by a refuser;
     a banned class (``nn.MultiheadAttention``) refuses to be built or called;
  3. **modules** no solution needs and which would compile around the dispatcher
     (``torch.compile``, ``torch._dynamo``, ``torch._inductor``) are refused on import.

  ``torch.autograd`` means the gradient engine itself (``run_backward`` of the C++
  engine type, which ``Tensor.backward``, ``torch.autograd.grad`` and ``torch.func``
  all end in) plus forward-mode AD (``_make_dual``).

  A refused call is recorded in :data:`ATTEMPTS` before it raises, so catching the
  exception gains nothing: the child gives the case the ``forbidden`` verdict.

- **Inputs**: NumPy arrays become CPU tensors of the same dtype (masks, bool or 0/1,
  ``torch.bool``; integer arrays ``torch.int64``), ``{"$rng": seed}`` a
  ``torch.Generator`` seeded with that seed; Python numbers stay as they are.
- **Answers**: tensors anywhere in the returned value (tuples, lists, dicts) become
  plain NumPy arrays, read through torch's own unbound methods with
  ``__torch_function__`` disabled, so a subclass' ``numpy``/``__array__``/``detach``
  override is never consulted; a tensor with grad, non-contiguous, conjugated or a
  view is copied out; sparse, meta, quantized, complex and bfloat16 tensors are
  refused with a message. What leaves the process is then the plain ``.npy`` of the
  wire format, never a pickle.

Standard library, NumPy and torch only: the child loads this file by path.
"""

from __future__ import annotations

import re
import sys
import warnings

INSTALL_HINT = "pip install 'mhajudge[torch]' (or pip install torch)"
# Modules a candidate may not import on the torch track: they compile (or trace) the
# code into kernels of their own, around the dispatcher's bans.
BANNED_MODULES = ("torch._dynamo", "torch._inductor", "torch.compiler", "torch._export", "torch.export",
                  "torch.onnx", "torch.utils.cpp_extension", "torch._higher_order_ops")
BANNED_CALLS = ("torch.compile", "torch.jit.trace", "torch.jit.script", "torch.export.export")
# Dispatch keys a refusing kernel is registered on (where the operator has a kernel).
KEYS = ("CPU", "AutogradCPU", "Autograd", "CompositeImplicitAutograd", "CompositeExplicitAutograd",
        "CompositeExplicitAutogradNonFunctional", "MkldnnCPU", "SparseCPU", "SparseCsrCPU", "QuantizedCPU",
        "NestedTensorCPU", "AutogradNestedTensor", "CompositeImplicitAutogradNestedTensor")
# A name that means a family of roads, not one function.
FAMILIES = {
    "torch.autograd": ("$engine", "torch.ops.aten._make_dual", "torch.autograd.grad", "torch.autograd.backward",
                       "torch.autograd.functional", "torch.autograd.forward_ad", "torch.func.grad",
                       "torch.func.grad_and_value", "torch.func.vjp", "torch.func.jacrev", "torch.func.jacfwd",
                       "torch.func.hessian", "torch.func.jvp", "torch.Tensor.backward"),
}

ATTEMPTS: list[str] = []  # what the candidate tried to call that is banned, in order
torch = None
np = None


class ForbiddenOp(RuntimeError):
    """A banned torch function or operator was called."""


def _refuser(name: str):
    def refused(*args, **kwargs):
        ATTEMPTS.append(name)
        raise ForbiddenOp(f"'{name}' is not allowed here: write it from scratch with tensor operations")
    refused.__name__ = refused.__qualname__ = name.rsplit(".", 1)[-1]
    return refused


# -- loading -------------------------------------------------------------------------

def setup(banned: list[str]) -> str | None:
    """Import torch for every fork to share and install the bans; None, or why not."""
    global torch, np
    try:
        import numpy
        import torch as _torch
    except ImportError as exc:
        return (f"this file is on the PyTorch track (it imports torch, or its header says so), but torch "
                f"cannot be imported here "
                f"({exc}); install it: {INSTALL_HINT}")
    torch, np = _torch, numpy
    torch.set_num_threads(1)  # no intra-op pool: forks stay safe and the cases get one core each
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel"
        plan = _Plan()
        for name in list(banned) + list(BANNED_CALLS):
            for road in FAMILIES.get(name, (name,)):
                plan.add(road, label=name)
        plan.apply()
    _capture()
    _warm_up()
    drop_banned_modules()
    return None


def _warm_up() -> None:
    """Run the usual operations once here, so that their one-time initialisation is paid
    in the zygote and not again in every case's fork."""
    for dtype in (torch.float64, torch.float32):
        x = torch.ones(2, 3, 4, dtype=dtype)
        m = torch.ones(3, 3, dtype=torch.bool).tril()
        s = (x @ x.transpose(-2, -1)) / 2.0
        s = s.masked_fill(~m, float("-inf"))
        s = torch.where(m, s, torch.zeros_like(s))
        e = torch.exp(s - s.amax(-1, keepdim=True)).sum(-1, keepdim=True)
        torch.einsum("bld,bmd->blm", x, x).reshape(2, -1).view(-1).max()
        torch.cat([x, x], dim=1).split(2, dim=-1)
        (x.mean(-1), x.var(-1, unbiased=False), torch.sqrt(x), torch.sin(x), torch.cos(x), torch.arange(4),
         torch.tanh(x), torch.randn(3, generator=torch.Generator().manual_seed(0)), e.clamp_min(0).numpy())


def _held_by_parents() -> list[tuple]:
    """``(parent module, attribute)`` for each banned module a loaded parent still holds."""
    held = []
    for name in BANNED_MODULES:
        parent, _, child = name.rpartition(".")
        mod = sys.modules.get(parent)
        if mod is not None and child in vars(mod):
            held.append((mod, child))
    return held


def drop_banned_modules() -> None:
    """Remove every loaded :data:`BANNED_MODULES` module (and the attribute a loaded
    parent holds for it), so that an import of one meets the guard.

    Run once in the zygote after :func:`setup` (a scan of torch's thousand-odd loaded
    modules costs 5 ms, too much to pay in every case's process)."""
    for name in [m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in BANNED_MODULES)]:
        del sys.modules[name]
    for mod, child in _held_by_parents():
        try:
            delattr(mod, child)
        except AttributeError:
            pass


def install_module_guard() -> None:
    """In a case's process, before the candidate runs: refuse :data:`BANNED_MODULES`.

    The zygote dropped them already (:func:`drop_banned_modules`); should one have been
    loaded again since (a lazy import of torch's own), the scan runs again here."""
    if any(name in sys.modules for name in BANNED_MODULES) or _held_by_parents():
        drop_banned_modules()
    sys.meta_path.insert(0, _ModuleGuard())


class _ModuleGuard:
    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == b or fullname.startswith(b + ".") for b in BANNED_MODULES):
            ATTEMPTS.append(fullname)
            raise ForbiddenOp(f"import of '{fullname}' is not allowed here: solve it with tensor operations")
        return None

    def invalidate_caches(self):
        pass


# -- bans ------------------------------------------------------------------------------

def _resolve(dotted: str):
    parts = dotted.split(".")
    obj = sys.modules.get(parts[0]) if parts[0] == "torch" else None
    for p in parts[1:]:
        if obj is None:
            return None
        obj = getattr(obj, p, None)
    return obj


def _segment(name: str):
    return re.compile(rf"(^|_){re.escape(name)}($|_)").search


class _Plan:
    """What to refuse, gathered for all banned names first, then applied in one pass
    over torch's namespaces (a pass per name would cost seconds)."""

    def __init__(self):
        self.ops: dict[str, str] = {}        # ATen operator (with overload) -> label
        self.objects: dict[int, tuple] = {}  # id(object) -> (object, label)
        self.ref_names: dict[str, str] = {}  # a name in torch's Python references -> label
        self.patterns: list = []             # (base-name test, label) for decomposition tables
        self._all_ops = [n[6:] for n in torch._C._dispatch_get_all_op_names() if n.startswith("aten::")]

    def add_ops(self, test, label: str) -> None:
        for op in self._all_ops:
            base = op.split(".")[0]
            if test(base):
                self.ops.setdefault(op, f"torch.ops.aten.{base}" if label.endswith("*") else label)
        self.patterns.append((test, label))

    def add(self, dotted: str, label: str) -> None:
        if dotted == "$engine":  # the gradient engine: where every backward pass ends
            engine = type(torch.autograd.variable.Variable._execution_engine)
            for cls in engine.__mro__:
                if "run_backward" in vars(cls):
                    _set_type_attr(cls, "run_backward", _refuser(label))
            return
        if dotted.startswith("torch.ops.aten."):
            name = dotted[len("torch.ops.aten."):].split(".")[0]
            self.add_ops((lambda op: op.startswith(name[:-1])) if name.endswith("*") else (lambda op: op == name),
                         label)
            return
        if dotted.endswith("*"):  # torch.nn.Transformer*: every attribute of the parent so named
            import fnmatch

            parent, _, glob = dotted.rpartition(".")
            for key in sorted(vars(_resolve(parent) or object)):
                if fnmatch.fnmatchcase(key, glob):
                    self.add(f"{parent}.{key}", label)
            return
        obj = _resolve(dotted)
        name = dotted.rsplit(".", 1)[-1]
        if isinstance(obj, type):  # a class (nn.MultiheadAttention): it refuses to be built or run
            for attr in ("__init__", "forward"):
                if attr in vars(obj) or attr == "__init__":
                    _set_type_attr(obj, attr, _refuser(label))
            self.objects[id(obj)] = (obj, label)
            return
        if obj is not None and type(obj).__name__ == "module":  # each public function in it
            for key, value in list(vars(obj).items()):
                if not key.startswith("_") and callable(value) and not isinstance(value, type):
                    self.objects[id(value)] = (value, label)
            return
        if obj is not None:
            self.objects[id(obj)] = (obj, label)
        self.ref_names.setdefault(name, label)
        self.add_ops(_segment(name), label)

    def apply(self) -> None:
        lib = torch._C._dispatch_library("IMPL", "aten", "")
        _LIBRARY.append(lib)  # the registrations live as long as this process
        has = torch._C._dispatch_has_kernel_for_dispatch_key
        for op, label in sorted(self.ops.items()):
            for key in KEYS:
                if has(f"aten::{op}", key):
                    lib.impl(op, key, _refuser(label))
        refs = ("torch._refs", "torch._decomp", "torch._prims")
        tables = []
        for space in _torch_namespaces():
            try:
                items = list(vars(space).items())
            except TypeError:
                continue
            in_refs = getattr(space, "__name__", "").startswith(refs)
            for key, value in items:
                hit = self.objects.get(id(value))
                label = hit[1] if hit is not None and hit[0] is value else None
                if label is None and in_refs:
                    if isinstance(value, dict):
                        tables.append(value)
                        continue
                    if callable(value):
                        label = self.ref_names.get(key)
                if label is not None:
                    try:
                        setattr(space, key, _refuser(label))
                    except (AttributeError, TypeError):
                        pass
        for cls in (torch.Tensor, torch._C.TensorBase):
            for key, value in list(vars(cls).items()):
                hit = self.objects.get(id(value))
                if hit is not None and hit[0] is value:
                    _set_type_attr(cls, key, _refuser(hit[1]))
        self._tables(tables)

    def _tables(self, tables) -> None:
        """Decomposition tables (operator -> Python implementation) keyed by a banned operator."""
        seen = set()
        while tables:
            table = tables.pop()
            if id(table) in seen:
                continue
            seen.add(id(table))
            for key in list(table):
                value = table[key]
                if isinstance(value, dict):
                    tables.append(value)
                    continue
                op = getattr(key, "_name", None)
                if isinstance(op, str) and op.startswith("aten::"):
                    base = op[6:].split(".")[0]
                    for test, label in self.patterns:
                        if test(base):
                            table[key] = _refuser(label)
                            break


_LIBRARY = []


def _set_type_attr(cls, name: str, value) -> None:
    """Replace an attribute of a class, a C extension type included."""
    try:
        setattr(cls, name, value)
        return
    except (TypeError, AttributeError):
        pass
    import ctypes
    import gc

    real = gc.get_referents(cls.__dict__)[0]  # the dict behind the read-only mapping proxy
    real[name] = value
    ctypes.pythonapi.PyType_Modified(ctypes.py_object(cls))


def _torch_namespaces():
    spaces = [m for n, m in list(sys.modules.items()) if n.startswith("torch") and m is not None]
    spaces += [torch._C._VariableFunctions, torch._C._nn, torch._C._linalg, torch._C._special, torch._C._fft]
    return spaces


# -- tensors in, arrays out --------------------------------------------------------------

_UNBOUND: dict = {}


def _capture() -> None:
    """torch's own methods, taken before any candidate code exists."""
    base = torch._C.TensorBase
    for name in ("detach", "numpy", "contiguous", "resolve_conj", "resolve_neg", "clone"):
        _UNBOUND[name] = getattr(base, name)
    _UNBOUND["layout"] = base.layout.__get__
    _UNBOUND["device"] = base.device.__get__
    _UNBOUND["dtype"] = base.dtype.__get__
    _UNBOUND["is_quantized"] = base.is_quantized.__get__
    _UNBOUND["Tensor"] = torch.Tensor
    _UNBOUND["Generator"] = torch.Generator
    _UNBOUND["from_numpy"] = torch.from_numpy
    _UNBOUND["no_torch_function"] = torch._C.DisableTorchFunction
    _UNBOUND["strided"] = torch.strided


MASK_NAMES = ("mask",)  # a 0/1 array passed as one of these is handed in as torch.bool


def call_inputs(inputs: dict, params: list[str]) -> dict:
    """A program's inputs (``args``, ``kwargs``, ``vary``, ``steps``) as tensors; a 0/1
    mask (a parameter named ``mask``) as ``torch.bool``, as PROBLEMS.md says."""
    names = [p.split("=")[0] for p in params]

    def masks(args, kwargs):
        args = [_as_mask(a) if i < len(names) and names[i] in MASK_NAMES else a for i, a in enumerate(args)]
        kwargs = {k: _as_mask(v) if k in MASK_NAMES else v for k, v in kwargs.items()}
        return args, kwargs

    out = dict(inputs)
    out["args"], out["kwargs"] = masks(list(inputs.get("args", [])), dict(inputs.get("kwargs", {})))
    if "vary" in inputs:
        out["vary"] = [masks([], dict(v))[1] for v in inputs["vary"]]
    if isinstance(inputs.get("steps"), list):  # not a timed program's (the child hands those over one by one)
        out["steps"] = [dict(st, **dict(zip(("args", "kwargs"), masks(list(st.get("args", [])),
                                                                       dict(st.get("kwargs", {}))))))
                        for st in inputs["steps"]]
    return to_torch(out)


def _as_mask(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.size and \
            np.isin(value, (0, 1)).all():
        return value.astype(bool)
    return value


def to_torch(value):
    """The case's inputs as the torch track hands them in."""
    if isinstance(value, np.ndarray):
        arr = value.astype(np.int64) if value.dtype.kind in "iu" else value
        if not arr.flags.c_contiguous or not arr.flags.writeable:  # (ascontiguousarray makes 0-d arrays 1-d)
            arr = arr.copy(order="C")
        return _UNBOUND["from_numpy"](arr)
    if isinstance(value, dict):
        if set(value) == {"$rng"}:
            return _UNBOUND["Generator"]().manual_seed(int(value["$rng"]) % (1 << 63))
        return {k: to_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_torch(v) for v in value]
    if isinstance(value, tuple):
        return tuple(to_torch(v) for v in value)
    return value


def to_numpy(value, error, depth: int = 0):
    """Every tensor in a returned value as a plain ndarray; ``error`` is the class to raise."""
    if depth > 64:
        raise error("the return value is nested too deeply")
    if isinstance(value, _UNBOUND["Tensor"]):
        return _array(value, error)
    if isinstance(value, tuple):
        return tuple(to_numpy(v, error, depth + 1) for v in tuple.__iter__(value))
    if isinstance(value, list):
        return [to_numpy(v, error, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        return {k: to_numpy(v, error, depth + 1) for k, v in dict.items(value)}
    return value


def _array(t, error):
    u = _UNBOUND
    with u["no_torch_function"]():  # a subclass' __torch_function__ is not consulted
        layout, device, dtype = u["layout"](t), u["device"](t), u["dtype"](t)
        if layout is not u["strided"]:
            raise error(f"a returned tensor has layout {layout}; return a dense tensor (.to_dense())")
        if device.type != "cpu":
            raise error(f"a returned tensor is on device '{device}' and holds no numbers here; return a CPU tensor")
        if u["is_quantized"](t):
            raise error("a returned tensor is quantized; return a float tensor")
        if dtype.is_complex:
            raise error(f"a returned tensor has complex dtype {dtype}; expected real numbers")
        if dtype == torch.bfloat16:
            raise error("a returned tensor has dtype torch.bfloat16, which NumPy cannot hold; "
                        "return float32 or float64 (.double())")
        try:
            plain = u["contiguous"](u["resolve_neg"](u["resolve_conj"](u["detach"](t))))
            arr = u["numpy"](plain)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise error(f"a returned tensor cannot be read as numbers ({str(exc)[:200]})") from None
    out = np.array(arr, copy=True)  # the judge's copy: later changes to the tensor do not follow
    return out.view(np.ndarray) if type(out) is not np.ndarray else out
