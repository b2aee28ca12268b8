"""The local GGUF model (llama-cpp-python) and constrained choice decoding.

The only module that imports ``llama_cpp``. The model never free-generates: every answer is a
choice among a closed set of options (intent labels and "none"), decoded over a token trie.
Where the trie allows one token, that token is forced and fed with the others in one batch;
where it branches, only the logits of the allowed tokens are computed: on the CPU, llama.cpp's
graph stops at the final hidden state and the output layer's rows for those tokens are taken
from the GGUF file (``_OutputHead``; in a small model that layer is most of the weights). The
static prompt prefix is evaluated once and its KV cache reused per call. Several continuations
(the parts of one utterance) are decoded together, one sequence each in one batch per step
(``choose_many``).
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_assistant.errors import BackendMissingError, ModelError, ModelNotFoundError
from edge_assistant.nlu.prompt import FORMAT_KEY, TUNED_FORMATS, answer

__all__ = ["Choice", "LlamaModel", "check_gguf"]

_GGUF_MAGIC = b"GGUF"
# Sequences one llama.cpp batch may hold (``choose_many``: the parts of one utterance).
_SEQUENCES = 8
_llama_log = logging.getLogger("edge_assistant.llama_cpp")
# llama.cpp's recent error-level lines, added to the message when a model fails to load.
_recent_errors: deque[str] = deque(maxlen=8)
_log_callback: Any = None


def _route_llama_logs(llama_cpp: Any) -> None:
    """Send llama.cpp's own log lines to Python logging (DEBUG) instead of stderr.

    llama.cpp reports notes such as "using full-size SWA cache" at its error level, which the
    binding prints even with ``verbose=False``. Real failures surface as exceptions, and their
    detail is kept in ``_recent_errors`` for the ModelError message.
    """
    global _log_callback
    if _log_callback is not None:
        return

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", "replace").rstrip()
        if level == 3 and line:
            _recent_errors.append(line)
        if line:
            _llama_log.debug("%s", line)

    _log_callback = forward  # keep a reference: llama.cpp holds only the C pointer
    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))


@dataclass(frozen=True)
class Choice:
    """The option picked, its index, and its probability among the options."""

    index: int
    option: str
    probability: float


@dataclass
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    option: int | None = None


@dataclass
class _Run:
    """One continuation's walk down the option trie (``choose``, ``choose_many``)."""

    pending: list[int]  # tokens to evaluate at the next step
    node: _Node
    log_p: float = 0.0
    done: int = 0  # tokens after the prefix that the cache holds for this sequence

    def forward(self) -> bool:
        """Take the forced tokens (one child); True while a branch waits for the model."""
        while self.node.option is None and len(self.node.children) == 1:
            token, self.node = next(iter(self.node.children.items()))
            self.pending.append(token)
        return self.node.option is None

    def take(self, token: int, log_p: float) -> None:
        self.log_p += log_p
        self.pending.append(token)
        self.node = self.node.children[token]

    def choice(self, options: list[str]) -> Choice:
        """The option the walk ended at, with its probability."""
        assert self.node.option is not None, "the walk has not reached an option"
        return Choice(self.node.option, options[self.node.option], math.exp(self.log_p))


def _depth(node: _Node) -> int:
    """The most tokens an option of the trie takes."""
    return 1 + max((_depth(child) for child in node.children.values()), default=-1)


def check_gguf(path: Path) -> None:
    """Raise a clear error when ``path`` is missing or not a GGUF file."""
    if not path.exists():
        raise ModelNotFoundError(
            f"model file not found: {path}\nfetch the default model with: edge-assistant models pull default"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    if head[:4] != _GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (it does not start with 'GGUF')")
    if path.stat().st_size < 1024 * 1024:
        raise ModelError(f"{path} is too small to be a GGUF model: the file may be truncated")


# GGUF metadata value types -> fixed sizes in bytes (8 = string and 9 = array are read apart).
_GGUF_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


@dataclass(frozen=True)
class _Tensor:
    """Where one tensor's data lies in a GGUF file."""

    kind: int  # ggml type
    shape: tuple[int, ...]  # ne0 first (a matrix row's length), as GGUF stores it
    start: int  # byte offset in the file


def _read_gguf(path: Path, key: str | None = None, tensors: bool = False) -> tuple[str | None, dict[str, _Tensor]]:
    """String metadata ``key`` (None when absent) and, with ``tensors``, every tensor's place."""

    def read(count: int) -> bytes:
        data = handle.read(count)
        if len(data) != count:
            raise ModelError(f"{path} is truncated: its GGUF header ends early")
        return data

    def number(size: int) -> int:
        return int.from_bytes(read(size), "little")

    def skip(kind: int) -> None:
        if kind == _GGUF_STRING:
            handle.seek(number(8), 1)
        elif kind == _GGUF_ARRAY:
            inner, count = number(4), number(8)
            if inner in _GGUF_SIZES:
                handle.seek(_GGUF_SIZES[inner] * count, 1)
            else:
                for _ in range(count):
                    skip(inner)
        elif kind in _GGUF_SIZES:
            handle.seek(_GGUF_SIZES[kind], 1)
        else:
            raise ModelError(f"{path}: unknown GGUF metadata type {kind}")

    found: str | None = None
    alignment = 32
    places: dict[str, _Tensor] = {}
    with path.open("rb") as handle:
        if read(4) != _GGUF_MAGIC:
            raise ModelError(f"{path} is not a GGUF file (it does not start with 'GGUF')")
        number(4)  # version
        n_tensors = number(8)
        for _ in range(number(8)):
            name = read(number(8)).decode("utf-8", "replace")
            kind = number(4)
            if name == key and kind == _GGUF_STRING:
                found = read(number(8)).decode("utf-8", "replace")
                if not tensors:
                    return found, places
            elif name == "general.alignment" and kind == 4:
                alignment = number(4) or 32
            else:
                skip(kind)
        if not tensors:
            return found, places
        infos = []
        for _ in range(n_tensors):
            name = read(number(8)).decode("utf-8", "replace")
            shape = tuple(number(8) for _ in range(number(4)))
            infos.append((name, number(4), shape, number(8)))
        data_start = -(-handle.tell() // alignment) * alignment
    places = {name: _Tensor(kind, shape, data_start + offset) for name, kind, shape, offset in infos}
    return found, places


def gguf_string(path: Path, key: str) -> str | None:
    """The string metadata ``key`` of GGUF file ``path``, or None when it has no such key.

    Reads only the header (what an adapter's provenance keys need), never the tensors.
    """
    return _read_gguf(path, key)[0]


def adapter_prompt_format(path: Path) -> str:
    """The tuned prompt format an adapter was trained for; a clear error for one this version cannot use."""
    if not path.exists():
        raise ModelNotFoundError(f"LoRA adapter not found: {path}")
    found = gguf_string(path, FORMAT_KEY)
    if found is None:
        raise ModelError(f"{path} is not an adapter made by `edge-assistant tune` (no prompt format in it)")
    if found not in TUNED_FORMATS:
        raise ModelError(
            f"{path} was tuned for prompt format {found!r}, which this edge-assistant does not know "
            f"(it reads {', '.join(sorted(TUNED_FORMATS))}); re-run `edge-assistant tune`"
        )
    return found


class _OutputHead:
    """The model's output layer, read from its GGUF file, for the few tokens a choice may take.

    In a small model the output layer is most of the weights (Gemma 3 270M: 262,144 tokens x 640,
    170 MB as Q8_0, against about 60 MB for its 18 layers), and llama.cpp multiplies all of it for
    every evaluation that reads logits. A choice needs the logits of a handful of allowed tokens:
    their rows, dequantized once and kept, times the final hidden state.
    """

    def __init__(self, path: Path) -> None:
        import numpy as np
        from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType
        from gguf.quants import dequantize

        places = _read_gguf(path, tensors=True)[1]
        tensor = places.get("output.weight") or places.get("token_embd.weight")
        if tensor is None or len(tensor.shape) != 2:
            raise ModelError(f"{path} has no output or token embedding matrix")
        kind = GGMLQuantizationType(tensor.kind)
        width, rows = tensor.shape
        block, size = GGML_QUANT_SIZES[kind]
        self.width = width
        self._kind = kind
        self._dequantize = dequantize
        self._np = np
        self._rows = np.memmap(path, dtype=np.uint8, mode="r", offset=tensor.start, shape=(rows, width // block * size))
        self._cache: dict[int, Any] = {}
        self._path = path

    def release_mapped(self) -> int:
        """Take llama.cpp's mapping of this matrix out of the process's resident memory; the
        bytes released (0 where there is none: no mapping, another system).

        llama.cpp maps the GGUF file and reads the matrix twice: a row per input token (the
        matrix is the token embedding too, in Gemma) and all of it once, for the whole-graph
        check of ``_check_head``. Its pages stay resident after that check (170 MB of Gemma 3
        270M's 250), though choices never read them again. Dropped (``madvise``), they are the
        page cache's, read back from the file if a row is needed.
        """
        import mmap
        import sys

        if not sys.platform.startswith("linux") or not hasattr(mmap, "MADV_DONTNEED"):
            return 0
        ours = self._rows.ctypes.data
        target = os.path.realpath(self._path)
        first, last = self._rows.offset, self._rows.offset + self._rows.nbytes  # file offsets
        page = mmap.PAGESIZE
        released = 0
        try:
            with open("/proc/self/maps", encoding="utf-8") as maps:
                lines = maps.read().splitlines()
        except OSError:
            return 0
        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        for line in lines:
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or fields[5] != target:
                continue
            low, high = (int(x, 16) for x in fields[0].split("-"))
            offset = int(fields[2], 16)
            if low <= ours < high or offset > first or offset + (high - low) < last:
                continue  # our own rows, or a mapping that does not hold the whole matrix
            begin = -(-(low + first - offset) // page) * page
            end = (low + last - offset) // page * page
            if end > begin and libc.madvise(begin, end - begin, mmap.MADV_DONTNEED) == 0:
                released += end - begin
        return released

    def logits(self, hidden: Any, tokens: list[int]) -> list[float]:
        """The logit of each of ``tokens`` for final hidden state ``hidden``."""
        missing = [t for t in dict.fromkeys(tokens) if t not in self._cache]
        if missing:
            weights = self._dequantize(self._np.asarray(self._rows[missing]), self._kind)
            for token, row in zip(missing, weights.astype(self._np.float32), strict=True):
                self._cache[token] = row
        rows = self._np.stack([self._cache[t] for t in tokens])
        return [float(v) for v in rows @ hidden]


class _HiddenTap:
    """Stops llama.cpp's graph at the final norm ("result_norm") and keeps that hidden state.

    llama.cpp calls a context's eval callback for each node of the graph; a node it is asked about
    and told "needed" is computed with everything before it and shown; answering False then ends
    the graph there. Everything before the norm (every layer, the KV cache writes) has run; the
    output layer, which ``_OutputHead`` computes for the allowed tokens only, has not.
    """

    NAME = b"result_norm"

    def __init__(self, llama_lib: Any, width: int) -> None:
        import numpy as np

        self._np = np
        self._name = llama_lib.ggml_get_name
        self._name.restype, self._name.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        self._bytes = llama_lib.ggml_nbytes
        self._bytes.restype, self._bytes.argtypes = ctypes.c_size_t, [ctypes.c_void_p]
        # Copies out of whichever backend holds the tensor (a CUDA build may compute it on the GPU).
        self._get = llama_lib.ggml_backend_tensor_get
        self._get.restype = None
        self._get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
        self.width = width
        self.stop = True  # False: let the graph run on (llama.cpp's own logits are computed too)
        self.hidden: Any = None  # the last output's row
        self.rows: Any = None  # every output's row (several sequences in one batch)

    def __call__(self, tensor: ctypes.c_void_p, ask: bool, user_data: ctypes.c_void_p) -> bool:
        try:
            if self._name(tensor) != self.NAME:
                return not ask  # a node shown though not asked for: go on
            if ask:
                return True
            size = int(self._bytes(tensor))  # float32: [width, outputs]
            if size < 4 * self.width or size % (4 * self.width):
                return True
            rows = self._np.empty((size // (4 * self.width), self.width), dtype=self._np.float32)
            self._get(tensor, rows.ctypes.data, 0, size)  # one row per output, in the batch's order
            self.rows = rows
            self.hidden = rows[-1]
            return not self.stop
        except Exception:  # never let an error end the graph early: the KV cache would be left half-written
            _llama_log.exception("the hidden-state tap failed")
            return not ask


class LlamaModel:
    """A GGUF model held open for constrained choices after a cached prompt prefix."""

    def __init__(
        self,
        path: str | Path,
        *,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        n_ctx: int = 2048,
        lora_path: str | Path | None = None,
        output_head: bool = True,
    ) -> None:
        try:
            import llama_cpp
        except ImportError as exc:
            raise BackendMissingError("llama_cpp", "llm") from exc
        self.path = Path(path)
        check_gguf(self.path)
        self._lib = llama_cpp
        _route_llama_logs(llama_cpp)
        threads = n_threads or os.cpu_count() or 1
        kwargs: dict[str, Any] = {
            "model_path": str(self.path),
            "n_ctx": n_ctx,
            "n_threads": threads,
            "n_threads_batch": threads,
            "n_gpu_layers": n_gpu_layers,
            "n_batch": 128,
            "verbose": False,
        }
        # The tuned prompt format of the adapter (None without one); checked before llama.cpp loads it.
        self.prompt_format: str | None = None
        if lora_path is not None:
            self.prompt_format = adapter_prompt_format(Path(lora_path))
        _recent_errors.clear()
        try:
            # The adapter is loaded here, not by llama-cpp-python: given one, it reads the whole
            # model into memory instead of mapping it, which keeps the output layer resident.
            self._llm = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            detail = "; ".join(_recent_errors)
            raise ModelError(f"llama.cpp cannot load {self.path}: {exc}" + (f" ({detail})" if detail else "")) from exc
        self._adapter: Any = None if lora_path is None else self._load_adapter(Path(lora_path))
        self._prefix_len = 0
        self.n_ctx = n_ctx
        # The output layer computed for the allowed tokens only (CPU; see _OutputHead), or None:
        # llama.cpp's full logits. Checked against llama.cpp's own logits at every set_prefix.
        self._head: _OutputHead | None = None
        self._tap: _HiddenTap | None = None
        self._tap_callback: Any = None
        self._sequences = 1  # how many continuations one batch may hold (our own context: several)
        self._own_context(head=output_head and n_gpu_layers == 0)
        if self._adapter is not None and self._sequences == 1 and self._set_adapter(self._llm._ctx.ctx):
            raise ModelError(f"llama.cpp cannot apply the adapter {lora_path} to {self.path}")

    def _load_adapter(self, path: Path) -> Any:
        """The LoRA adapter in ``path``, loaded for this model (freed with it)."""
        llama_cpp = self._lib
        _recent_errors.clear()
        adapter = llama_cpp.llama_adapter_lora_init(self._llm._model.model, str(path).encode("utf-8"))
        if not adapter:
            detail = "; ".join(_recent_errors)
            raise ModelError(f"llama.cpp cannot load the adapter {path}" + (f" ({detail})" if detail else ""))
        self._llm._stack.callback(llama_cpp.llama_adapter_lora_free, adapter)  # before the model is
        return adapter

    def _set_adapter(self, ctx: Any) -> bool:
        """Apply the adapter to context ``ctx``; True when llama.cpp refuses."""
        llama_cpp = self._lib
        scale = float(self._llm.lora_scale)
        if hasattr(llama_cpp, "llama_set_adapters_lora"):
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._adapter)
            return bool(llama_cpp.llama_set_adapters_lora(ctx, adapters, 1, (ctypes.c_float * 1)(scale)))
        return bool(llama_cpp.llama_set_adapter_lora(ctx, self._adapter, scale))  # before 0.3.20: one at a time

    def _own_context(self, head: bool) -> None:
        """Replace llama-cpp-python's context with one of our own; on any failure, keep its context.

        Ours holds several sequences in one cache (``choose_many``) and, with ``head``, has an
        eval callback that stops the graph at the final norm (``_OutputHead``: the output layer
        for the allowed tokens only). A failure (an older binding, a type gguf cannot read)
        leaves one sequence at a time and llama.cpp's whole output layer.
        """
        llama_cpp = self._lib
        context = None
        tap = callback = out = None
        try:
            params = self._llm.context_params
            if head:
                out = _OutputHead(self.path)
                tap = _HiddenTap(llama_cpp.llama_cpp._lib, out.width)
                callback = llama_cpp.ggml_backend_sched_eval_callback(tap)
                params.cb_eval = callback
                params.cb_eval_user_data = None
            # Several sequences share the one cache (the prefix's cells are not copied): choose_many.
            params.n_seq_max = _SEQUENCES
            params.kv_unified = True
            context = llama_cpp._internals.LlamaContext(model=self._llm._model, params=params, verbose=False)
            if self._adapter is not None and self._set_adapter(context.ctx):
                raise ModelError("llama.cpp cannot apply the adapter to the new context")
        except Exception as exc:
            if context is not None:
                context.close()
            _llama_log.info("llama-cpp-python's own context is kept (%s: %s)", type(exc).__name__, exc)
            return
        previous: Any = self._llm._ctx
        self._llm._ctx = context
        previous.close()  # the context llama-cpp-python made: one sequence, no callback
        self._head, self._tap, self._tap_callback = out, tap, callback
        self._sequences = _SEQUENCES

    @property
    def output_head(self) -> bool:
        """Whether choices compute the output layer for their allowed tokens only."""
        return self._head is not None

    def _eval(self, tokens: list[int]) -> None:
        if self._tap is not None:
            self._tap.hidden = self._tap.rows = None
        self._llm.eval(tokens)

    def _logits(self, allowed: list[int]) -> list[float]:
        """The logits of ``allowed`` after the last evaluation (its last token)."""
        hidden = self._tap.hidden if self._head is not None and self._tap is not None else None
        return self._logits_of(hidden if hidden is not None else -1, allowed)

    def _check_head(self) -> None:
        """After an evaluation that ran the whole graph: the head's logits must be llama.cpp's.

        Compared on llama.cpp's 16 likeliest tokens and 16 spread over the vocabulary. A model
        whose output is more than its last matrix (a logit soft-cap, a scale) fails here and
        keeps llama.cpp's full output layer.
        """
        if self._head is None or self._tap is None:
            return
        import numpy as np

        size = int(self._llm.n_vocab())
        theirs = np.ctypeslib.as_array(self._lib.llama_get_logits_ith(self._llm.ctx, -1), shape=(size,))
        probe = [*(int(t) for t in np.argsort(-theirs)[:16]), *range(0, size, max(1, size // 16))]
        hidden = self._tap.hidden
        ours = self._head.logits(hidden, probe) if hidden is not None else None
        if ours is None or any(
            abs(a - float(theirs[t])) > 0.25 + 0.05 * abs(float(theirs[t])) for a, t in zip(ours, probe, strict=True)
        ):
            _llama_log.warning(
                "%s: the output layer computed apart differs from llama.cpp's; using llama.cpp's", self.path
            )
            self._head = None

    def _within_budget(self, continuation: str) -> list[int]:
        """The tokens of ``continuation``; a ValueError when they leave no room for an answer."""
        tokens = self.tokens(continuation)
        if len(tokens) + 16 > self.budget:
            raise ValueError(f"text too long for the context budget ({len(tokens)} tokens)")
        return tokens

    def tokens(self, text: str) -> list[int]:
        """Token ids of ``text`` without a BOS token."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def set_prefix(self, text: str) -> int:
        """Evaluate the static prompt prefix once; later calls reuse its KV cache."""
        self._llm.n_tokens = 0  # eval() drops the KV cache from n_tokens on
        ids = list(self._llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))
        if len(ids) >= self.n_ctx - 64:
            raise ModelError(
                f"the prompt prefix ({len(ids)} tokens: every intent of the catalog) does not fit n_ctx={self.n_ctx};"
                f" raise [model] n_ctx in the config to {1 << (len(ids) + 64).bit_length()} or more"
            )
        if self._tap is not None:
            self._tap.stop = False  # the whole graph once, for llama.cpp's logits to check the head against
        try:
            self._eval(ids)
            self._check_head()
        finally:
            if self._tap is not None:
                self._tap.stop = self._head is not None
        if self._head is not None:  # choices never read llama.cpp's output layer again
            self._head.release_mapped()
        self._prefix_len = len(ids)
        return len(ids)

    @property
    def budget(self) -> int:
        """Tokens left after the prefix for one call (continuation plus answer)."""
        return self.n_ctx - self._prefix_len

    def choose(self, continuation: str, options: list[str], trie: _Node | None = None) -> Choice:
        """Pick the likeliest of ``options`` after prefix + ``continuation``."""
        run = _Run(self._within_budget(continuation), trie if trie is not None else self.build_trie(options))
        self._llm.n_tokens = self._prefix_len
        while run.forward():
            self._eval(run.pending)
            run.pending = []
            run.take(*self._pick(list(run.node.children)))
        return run.choice(options)

    def choose_many(self, continuations: list[str], options: list[str], trie: _Node | None = None) -> list[Choice]:
        """``choose`` for each of ``continuations``, evaluated together: one llama.cpp batch per step.

        Each continuation is a sequence of its own after the one cached prefix (the cache's prefix
        cells are shared, not copied); a step evaluates every sequence's pending tokens in one
        batch, so the weights are read once for all of them: two parts of one utterance cost
        little more than one. Falls back to one ``choose`` after another where the context holds
        one sequence (a GPU build) or the batch would not fit.
        """
        root = trie if trie is not None else self.build_trie(options)
        runs = [_Run(self._within_budget(c), root) for c in continuations]
        # The first step holds the most: each text and its forced tokens up to the first branch.
        room = min(int(self._llm.n_batch), self.n_ctx - self._prefix_len)
        if not 1 < len(runs) <= self._sequences or sum(len(r.pending) for r in runs) + len(runs) * _depth(root) > room:
            return [self.choose(c, options, root) for c in continuations]
        memory = self._lib.llama_get_memory(self._llm.ctx)
        self._llm.n_tokens = self._prefix_len
        self._lib.llama_memory_seq_rm(memory, -1, self._prefix_len, -1)
        for seq in range(1, len(runs)):
            self._lib.llama_memory_seq_cp(memory, 0, seq, 0, self._prefix_len)
        batch = self._lib._internals.LlamaBatch(n_tokens=room, embd=0, n_seq_max=1, verbose=False)
        try:
            while True:
                stepping = [(seq, run) for seq, run in enumerate(runs) if run.forward()]
                if not stepping:
                    break
                outputs = self._decode(batch.batch, stepping)
                for (_, run), row in zip(stepping, outputs, strict=True):
                    allowed = list(run.node.children)
                    best, best_lp = self._best(allowed, self._logits_of(row, allowed))
                    run.take(best, best_lp)
        finally:
            batch.close()  # type: ignore[no-untyped-call]
            for seq in range(1, len(runs)):
                self._lib.llama_memory_seq_rm(memory, seq, -1, -1)
            self._lib.llama_memory_seq_rm(memory, 0, self._prefix_len, -1)
            self._llm.n_tokens = self._prefix_len
        return [run.choice(options) for run in runs]

    def _decode(self, batch: Any, stepping: list[tuple[int, _Run]]) -> list[Any]:
        """Evaluate each sequence's pending tokens at its own positions; one output per sequence.

        Returns, per sequence, its last token's hidden row (the output head) or batch index
        (llama.cpp's own logits).
        """
        size, lasts = 0, []
        for seq, run in stepping:
            for k, token in enumerate(run.pending):
                batch.token[size] = token
                batch.pos[size] = self._prefix_len + run.done + k
                batch.n_seq_id[size] = 1
                batch.seq_id[size][0] = seq
                batch.logits[size] = k == len(run.pending) - 1
                size += 1
            lasts.append(size - 1)
            run.done += len(run.pending)
            run.pending = []
        batch.n_tokens = size
        if self._tap is not None:
            self._tap.hidden = self._tap.rows = None
        failed = self._lib.llama_decode(self._llm.ctx, batch)
        if failed:
            raise ModelError(f"llama.cpp could not evaluate {len(stepping)} sequences at once (llama_decode: {failed})")
        if self._head is not None and self._tap is not None and self._tap.rows is not None:
            if len(self._tap.rows) != len(stepping):
                raise ModelError(f"llama.cpp gave {len(self._tap.rows)} outputs for {len(stepping)} sequences")
            return list(self._tap.rows)
        return lasts

    def _logits_of(self, output: Any, allowed: list[int]) -> list[float]:
        """The logits of ``allowed`` for one output of a batch (``_decode``)."""
        if self._head is not None and not isinstance(output, int):
            return self._head.logits(output, allowed)
        logits = self._lib.llama_get_logits_ith(self._llm.ctx, output)
        return [float(logits[t]) for t in allowed]

    def distribution(self, continuation: str, options: list[str], trie: _Node | None = None) -> list[float]:
        """The probability of every option after prefix + ``continuation`` (they sum to 1).

        ``choose`` follows the likeliest token at each branch; this walks every branch, so an
        option's probability is the product over all its tokens. Only the tokens that differ from
        what the KV cache already holds are evaluated, one branch point at a time.
        """
        root = trie if trie is not None else self.build_trie(options)
        start = self._within_budget(continuation)
        probs = [0.0] * len(options)
        held: list[int] = []  # the tokens after the prefix that the KV cache holds now
        stack: list[tuple[_Node, list[int], float]] = [(root, start, 0.0)]
        while stack:
            node, path, log_p = stack.pop()
            while node.option is None and len(node.children) == 1:
                token, node = next(iter(node.children.items()))
                path = [*path, token]
            if node.option is not None:
                probs[node.option] = math.exp(log_p)
                continue
            same = 0
            while same < min(len(held), len(path)) and held[same] == path[same]:
                same += 1
            if same == len(path):
                same -= 1  # the cache holds this path (or more): re-evaluate its last token for its logits
            self._llm.n_tokens = self._prefix_len + same
            self._eval(path[same:])
            held = list(path)
            allowed = list(node.children)
            for token, lp in zip(allowed, self._log_softmax(allowed), strict=True):
                stack.append((node.children[token], [*path, token], log_p + lp))
        return probs

    def _log_softmax(self, allowed: list[int]) -> list[float]:
        values = self._logits(allowed)
        top = max(values)
        norm = top + math.log(sum(math.exp(v - top) for v in values))
        return [v - norm for v in values]

    def _pick(self, allowed: list[int]) -> tuple[int, float]:
        return self._best(allowed, self._logits(allowed))

    @staticmethod
    def _best(allowed: list[int], values: list[float]) -> tuple[int, float]:
        """The likeliest of ``allowed`` and its log-probability among them."""
        top = max(values)
        norm = top + math.log(sum(math.exp(v - top) for v in values))
        i = values.index(top)
        return allowed[i], top - norm

    def build_trie(self, options: list[str]) -> _Node:
        """A token trie of the options, each ending in a newline so none prefixes another."""
        root = _Node()
        for index, option in enumerate(options):
            node = root
            for token in self.tokens(answer(option)):
                node = node.children.setdefault(token, _Node())
            node.option = index
        return root

    def close(self) -> None:
        """Free the native model (and the output layer's file map) now rather than at garbage collection."""
        self._llm.close()
        self._head = None
