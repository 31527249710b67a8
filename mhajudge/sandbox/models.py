"""Judge-owned functions built from plain arrays: a *model* handed to the candidate.

Some problems pass the candidate a function to call, such as beam search's
``step(prefixes)``. No callable crosses the process boundary: the inputs hold a
marker ``{"$model": {"kind": NAME, ...arrays}}`` and each side builds the function
itself from the arrays (:func:`build`), the child for the candidate, the judge for
the reference and the mistakes, exactly as ``{"$rng": seed}`` becomes a generator
(see :func:`programs.with_generators`). Expected answers never enter the child.

Every model counts how it is used: the number of calls and of rows (prefixes)
asked for. The candidate's calls are answered by the trusted child, which holds the
model (:mod:`.serving`: the case's process has a proxy, and neither the weights nor
the counts); the judge adds the child's counts to the answer as two leaves,
``$model_calls`` and ``$model_rows`` (int64 scalars, see :data:`CALLS_LEAF`), which
a problem's check reads, as ``$peak_bytes`` is read for memory (a search that
rescores whole sequences at every step asks for many more rows than one that
extends its live hypotheses once per step).

Candidate code may call a model with anything: it refuses what is not a list of
token lists within its vocabulary and its length cap, and what would exceed its
total budget of rows, with a ``ValueError`` or ``TypeError`` that the candidate sees
as its own runtime error (:func:`read_prefixes`, run by the proxy in the case's
process and again by the child); it never hangs on a huge argument (the sizes are
checked before any work).

Kinds (``KINDS``):

- ``recurrent``: a tiny recurrent language model. ``embed (V, D)``, ``W_h (D, D)``,
  ``W_out (D, V)``, ``bias (V,)``. For a prefix ``t_0..t_{n-1}``:
  ``h_0 = 0``, ``h_i = tanh(embed[t_{i-1}] + h_{i-1} @ W_h)``, and the next-token
  log-probabilities are ``log_softmax(h_n @ W_out + bias)``. They depend on the
  whole prefix, so a search that mixes up its hypotheses' histories is caught.

Standard library and NumPy only: the child loads this file by path.
"""

from __future__ import annotations

import operator
import time

CALLS_LEAF = "$model_calls"
ROWS_LEAF = "$model_rows"
LEAVES = (CALLS_LEAF, ROWS_LEAF)

MAX_ROWS_PER_CALL = 100_000    # prefixes in one call
MAX_LENGTH = 4096              # tokens in one prefix
MAX_TOTAL_ROWS = 2_000_000     # prefixes over the whole program
MAX_TOTAL_TOKENS = 2_000_000   # tokens over the whole program (the work done)


class RecurrentModel:
    """``step(prefixes) -> (n, V)`` next-token log-probabilities; see the module docstring."""

    __slots__ = ("_embed", "_W_h", "_W_out", "_bias", "_counts")

    def __init__(self, embed, W_h, W_out, bias):
        import numpy as np

        self._embed = np.array(embed, dtype=np.float64)
        self._W_h = np.array(W_h, dtype=np.float64)
        self._W_out = np.array(W_out, dtype=np.float64)
        self._bias = np.array(bias, dtype=np.float64)
        V, D = self._embed.shape
        if self._W_h.shape != (D, D) or self._W_out.shape != (D, V) or self._bias.shape != (V,):
            raise ValueError("recurrent model: embed (V, D), W_h (D, D), W_out (D, V), bias (V,)")
        self._counts = [0, 0, 0]  # calls, rows, tokens

    @property
    def vocab(self) -> int:
        return self._embed.shape[0]

    def usage(self) -> tuple[int, int]:
        return self._counts[0], self._counts[1]

    def __repr__(self) -> str:
        return f"<the judge's step model: step(prefixes) -> ({self.vocab} log-probabilities per prefix)>"

    def __call__(self, prefixes, deadline: float | None = None):
        """The log-probabilities of each prefix; ``deadline`` (a ``time.perf_counter``
        value): stop with ``TimeoutError`` past it (the child serving a case's calls)."""
        import numpy as np

        calls, total_rows, total_tokens = self._counts
        rows = read_prefixes(prefixes, self.vocab, total_rows, total_tokens)
        n, tokens = len(rows), sum(len(r) for r in rows)
        self._counts[:] = [calls + 1, total_rows + n, total_tokens + tokens]
        D = self._W_h.shape[0]
        out = np.empty((n, self.vocab))
        for i, row in enumerate(rows):
            if deadline is not None and time.perf_counter() > deadline:
                raise TimeoutError("step: the case's time ran out")
            h = np.zeros(D)
            for t in row:
                h = np.tanh(self._embed[t] + h @ self._W_h)        # (D,)
            z = h @ self._W_out + self._bias                         # (V,)
            z = z - z.max()
            out[i] = z - np.log(np.exp(z).sum())                     # log_softmax
        return out


def read_prefixes(prefixes, vocab: int, rows_before: int = 0, tokens_before: int = 0) -> list[list[int]]:
    """``step``'s argument as plain token lists, or the ``TypeError``/``ValueError`` that
    refuses it: a list (or tuple, or 2-D int array) of at most :data:`MAX_ROWS_PER_CALL`
    prefixes, each a list, tuple or 1-D int array of 1 to :data:`MAX_LENGTH` ints in
    ``0..vocab-1``, within the program's budget (``rows_before`` and ``tokens_before``
    already asked for). Sizes are checked before any token is looked at (no hang on a
    huge argument); a list subclass is not trusted (its ``len`` could lie)."""
    import numpy as np

    if isinstance(prefixes, np.ndarray):
        if prefixes.ndim != 2:
            raise TypeError(f"step: got an array of shape {prefixes.shape}; expected a list of token lists")
        prefixes = list(prefixes)
    elif not isinstance(prefixes, (list, tuple)):
        raise TypeError(f"step: got a {type(prefixes).__name__}; expected a list of token lists")
    n = len(prefixes)
    if n > MAX_ROWS_PER_CALL:
        raise ValueError(f"step: {n} prefixes in one call; at most {MAX_ROWS_PER_CALL}")
    prefixes = [_prefix(p, i) for i, p in enumerate(prefixes)]
    if rows_before + n > MAX_TOTAL_ROWS or tokens_before + sum(len(p) for p in prefixes) > MAX_TOTAL_TOKENS:
        raise ValueError(f"step: asked for more than {MAX_TOTAL_ROWS} prefixes or {MAX_TOTAL_TOKENS} tokens "
                         "in all; a search needs far fewer")
    return [_tokens(p, i, vocab) for i, p in enumerate(prefixes)]  # sizes bounded above: this is quick


def _prefix(prefix, row: int):
    """The prefix as a list or tuple, its length checked (its tokens are checked later)."""
    import numpy as np

    if isinstance(prefix, np.ndarray):
        if prefix.ndim != 1 or prefix.dtype.kind not in "iu":
            raise TypeError(f"step: prefix {row} is an array of shape {prefix.shape} and dtype "
                            f"{prefix.dtype}; expected a list of int token ids")
        prefix = prefix.tolist()
    elif type(prefix) not in (list, tuple):
        raise TypeError(f"step: prefix {row} is a {type(prefix).__name__}; expected a list of int token ids")
    if not 1 <= len(prefix) <= MAX_LENGTH:
        raise ValueError(f"step: prefix {row} has {len(prefix)} tokens; expected 1 to {MAX_LENGTH} "
                         "(every hypothesis starts with bos)")
    return prefix


def _tokens(prefix, row: int, vocab: int) -> list[int]:
    import numpy as np

    out = []
    for t in prefix:
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)):
            raise TypeError(f"step: prefix {row} holds a {type(t).__name__}; token ids are ints")
        t = operator.index(t)
        if not 0 <= t < vocab:
            raise ValueError(f"step: prefix {row} holds token {t}, outside the vocabulary 0..{vocab - 1}")
        out.append(int(t))
    return out


ARRAYS = {"recurrent": ("embed", "W_h", "W_out", "bias")}  # the arrays each kind is built from
KINDS = {"recurrent": lambda spec: RecurrentModel(*(spec[k] for k in ARRAYS["recurrent"]))}


def is_marker(value) -> bool:
    return isinstance(value, dict) and set(value) == {"$model"} and isinstance(value["$model"], dict)


def build(marker: dict):
    """The function a ``{"$model": {...}}`` marker describes (a fresh one, counts at zero)."""
    spec = marker["$model"]
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")
    return KINDS[kind](spec)


def has_marker(value) -> bool:
    """Do the (wire) inputs hold a model marker anywhere? (Walked without recursion, and
    quickly: a ``repeat`` program's inputs hold tens of thousands of small dicts.)"""
    todo = [value]
    while todo:
        v = todo.pop()
        if isinstance(v, dict):
            if "$model" in v and is_marker(v):
                return True
            todo.extend(x for x in v.values() if isinstance(x, (dict, list, tuple)))
        elif isinstance(v, (list, tuple)):
            todo.extend(x for x in v if isinstance(x, (dict, list, tuple)))
    return False
