"""The local GGUF model (llama-cpp-python) and constrained choice decoding.

The only module that imports ``llama_cpp``. The model never free-generates: every answer is a
choice among a closed set of options (intent labels and "none"), decoded over a token trie.
Where the trie allows one token, that token is forced and fed with the others in one batch;
where it branches, only the logits of the allowed tokens are read (no pass over the whole
vocabulary). The static prompt prefix is evaluated once and its KV cache reused per call.
"""

from __future__ import annotations

import ctypes
import logging
import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_assistant.errors import BackendMissingError, ModelError, ModelNotFoundError
from edge_assistant.nlu.prompt import FORMAT_KEY, TUNED_FORMATS, answer

__all__ = ["Choice", "LlamaModel", "check_gguf"]

_GGUF_MAGIC = b"GGUF"
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


def gguf_string(path: Path, key: str) -> str | None:
    """The string metadata ``key`` of GGUF file ``path``, or None when it has no such key.

    Reads only the header (what an adapter's provenance keys need), never the tensors.
    """

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

    with path.open("rb") as handle:
        if read(4) != _GGUF_MAGIC:
            raise ModelError(f"{path} is not a GGUF file (it does not start with 'GGUF')")
        number(4)  # version
        number(8)  # tensor count
        for _ in range(number(8)):
            name = read(number(8)).decode("utf-8", "replace")
            kind = number(4)
            if name == key and kind == _GGUF_STRING:
                return read(number(8)).decode("utf-8", "replace")
            skip(kind)
    return None


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
    ) -> None:
        try:
            import llama_cpp
        except ImportError as exc:
            raise BackendMissingError("llama_cpp", "llm") from exc
        self.path = Path(path)
        check_gguf(self.path)
        self._lib = llama_cpp
        _route_llama_logs(llama_cpp)
        kwargs: dict[str, Any] = {
            "model_path": str(self.path),
            "n_ctx": n_ctx,
            "n_threads": n_threads,
            "n_gpu_layers": n_gpu_layers,
            "n_batch": 128,
            "verbose": False,
        }
        # The tuned prompt format of the adapter (None without one); checked before llama.cpp loads it.
        self.prompt_format: str | None = None
        if lora_path is not None:
            self.prompt_format = adapter_prompt_format(Path(lora_path))
            kwargs["lora_path"] = str(lora_path)
        _recent_errors.clear()
        try:
            self._llm = llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError) as exc:
            detail = "; ".join(_recent_errors)
            raise ModelError(f"llama.cpp cannot load {self.path}: {exc}" + (f" ({detail})" if detail else "")) from exc
        self._prefix_len = 0
        self.n_ctx = n_ctx

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
        self._llm.eval(ids)
        self._prefix_len = len(ids)
        return len(ids)

    @property
    def budget(self) -> int:
        """Tokens left after the prefix for one call (continuation plus answer)."""
        return self.n_ctx - self._prefix_len

    def choose(self, continuation: str, options: list[str], trie: _Node | None = None) -> Choice:
        """Pick the likeliest of ``options`` after prefix + ``continuation``."""
        root = trie if trie is not None else self.build_trie(options)
        pending = self.tokens(continuation)
        if len(pending) + 16 > self.budget:
            raise ValueError(f"text too long for the context budget ({len(pending)} tokens)")
        self._llm.n_tokens = self._prefix_len
        node, log_p = root, 0.0
        while node.option is None:
            allowed = list(node.children)
            if len(allowed) == 1:
                pending.append(allowed[0])
                node = node.children[allowed[0]]
                continue
            self._llm.eval(pending)
            pending = []
            best, best_lp = self._pick(allowed)
            log_p += best_lp
            pending.append(best)
            node = node.children[best]
        return Choice(node.option, options[node.option], math.exp(log_p))

    def distribution(self, continuation: str, options: list[str], trie: _Node | None = None) -> list[float]:
        """The probability of every option after prefix + ``continuation`` (they sum to 1).

        ``choose`` follows the likeliest token at each branch; this walks every branch, so an
        option's probability is the product over all its tokens. Only the tokens that differ from
        what the KV cache already holds are evaluated, one branch point at a time.
        """
        root = trie if trie is not None else self.build_trie(options)
        start = self.tokens(continuation)
        if len(start) + 16 > self.budget:
            raise ValueError(f"text too long for the context budget ({len(start)} tokens)")
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
            self._llm.eval(path[same:])
            held = list(path)
            allowed = list(node.children)
            for token, lp in zip(allowed, self._log_softmax(allowed), strict=True):
                stack.append((node.children[token], [*path, token], log_p + lp))
        return probs

    def _log_softmax(self, allowed: list[int]) -> list[float]:
        logits = self._lib.llama_get_logits_ith(self._llm.ctx, -1)
        values = [float(logits[t]) for t in allowed]
        top = max(values)
        norm = top + math.log(sum(math.exp(v - top) for v in values))
        return [v - norm for v in values]

    def _pick(self, allowed: list[int]) -> tuple[int, float]:
        lib = self._lib
        logits = lib.llama_get_logits_ith(self._llm.ctx, -1)
        values = [float(logits[t]) for t in allowed]
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
        """Free the native model now rather than at garbage collection."""
        self._llm.close()
