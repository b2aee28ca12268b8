"""The command grammar as a minimal deterministic automaton, written as a pocketsphinx FSG.

pocketsphinx's own JSGF compiler copies every rule at every reference and keeps the empty
transitions, which for Home Assistant's templates makes decoding slower than real time. Determinised
and minimised, the same language is a few thousand states and decodes at a small fraction of real
time. An optional loop of filler words (one per phone) beside the commands soaks up speech that is
not a command, so that it comes out as filler instead of being forced onto the nearest command.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from edge_assistant.stt.grammar import CommandGrammar, Node

__all__ = ["Automaton", "compile_grammar"]

_Arcs = list[list[tuple[str | None, int]]]
# A path of words back to the start: (last word, the path before it), None at the start.
_Path = tuple[str, "_Path"] | None


@dataclass(frozen=True)
class Automaton:
    """A deterministic word automaton: ``arcs[state][word] -> state``; state 0 starts."""

    arcs: tuple[dict[str, int], ...]
    finals: frozenset[int]

    def accepts(self, words: Iterable[str]) -> bool:
        """Whether the word sequence is a whole sentence of the grammar."""
        state = 0
        for word in words:
            nxt = self.arcs[state].get(word)
            if nxt is None:
                return False
            state = nxt
        return state in self.finals

    def nearest(
        self,
        words: Sequence[str],
        most: int,
        max_cost: float,
        cost: Callable[[str, str], float],
        max_steps: int = 20_000,
    ) -> list[tuple[float, tuple[str, ...]]]:
        """Up to ``most`` sentences of the automaton nearest to ``words``, cheapest first, each
        with its cost: a heard word taken as a word of the grammar costs ``cost(heard, word)``
        (letter edits, at least half an edit per letter of difference in length), a heard word
        left out or a grammar word added costs its letters, and a heard word may stand for two
        grammar words or two for one ("standlight" for "standing light"). Nothing dearer than
        ``max_cost`` is returned.

        Dijkstra over (state, words consumed), each node settled at most ``most`` times, so that
        the ``most`` cheapest distinct sentences come out; a deterministic automaton gives each
        sentence one path, and a sentence reached again by a dearer alignment is skipped. Only
        the arcs whose word length keeps within the budget are looked at, and the search stops
        after ``max_steps`` nodes (what it found by then is still the cheapest, in order).
        """
        edit = lru_cache(maxsize=None)(cost)
        n = len(words)
        tick = itertools.count()
        heap: list[tuple[float, int, int, int, _Path]] = [(0.0, 0, 0, 0, None)]
        settled: dict[tuple[int, int], int] = {}
        found: list[tuple[float, tuple[str, ...]]] = []
        seen: set[tuple[str, ...]] = set()
        by_length = self._by_length

        def push(value: float, state: int, used: int, path: _Path) -> None:
            if value <= max_cost:
                heapq.heappush(heap, (value, next(tick), state, used, path))

        def arcs(state: int, low: float, high: float) -> list[tuple[int, str, int]]:
            lengths, arcs = by_length[state]
            return arcs[bisect.bisect_left(lengths, low) : bisect.bisect_right(lengths, high)]

        for _ in range(max_steps):
            if not heap or len(found) >= most:
                break
            spent, _, state, used, path = heapq.heappop(heap)
            times = settled.get((state, used), 0)
            if times >= most:
                continue
            settled[(state, used)] = times + 1
            if used == n and state in self.finals:
                sentence = _unwind(path)
                if sentence not in seen:
                    seen.add(sentence)
                    found.append((spent, sentence))
            room = max_cost - spent
            if used < n:
                push(spent + len(words[used]), state, used + 1, path)
            for size, word, target in arcs(state, 0, room):
                push(spent + size, target, used, (word, path))
            if used == n:
                continue
            heard = words[used]
            for _, word, target in arcs(state, len(heard) - 2 * room, len(heard) + 2 * room):
                push(spent + edit(heard, word), target, used + 1, (word, path))
            if used + 1 < n:
                joined = heard + words[used + 1]
                for _, word, target in arcs(state, len(joined) - 2 * room, len(joined) + 2 * room):
                    push(spent + edit(joined, word), target, used + 2, (word, path))
            for size, word, target in arcs(state, 1, len(heard) - 1):
                if heard.startswith(word[:2]):
                    rest = len(heard) - size
                    for _, second, after in arcs(target, rest - 2 * room, rest + 2 * room):
                        push(spent + edit(heard, word + second), after, used + 1, (second, (word, path)))
        return found

    @cached_property
    def _by_length(self) -> list[tuple[list[int], list[tuple[int, str, int]]]]:
        """Each state's arcs as (word length, word, target), shortest first, and their lengths."""
        out = []
        for arcs in self.arcs:
            ordered = sorted((len(word), word, target) for word, target in arcs.items())
            out.append(([size for size, _, _ in ordered], ordered))
        return out

    def to_fsg(self, fillers: Iterable[str] = (), filler_prob: float = 0.0, prefix: Iterable[str] = ()) -> str:
        """pocketsphinx FSG text: the commands, and beside them a loop of ``fillers`` (``filler_prob``
        per word) that takes speech which is no command. ``prefix`` words (a wake phrase) may
        precede a command.
        """
        n = len(self.arcs)
        final, garbage, entry, wake = n, n + 1, n + 2, n + 3
        prefix, fillers = list(prefix), list(fillers)
        lines = [f"TRANSITION {s} {t} 1.0 {w}" for s, a in enumerate(self.arcs) for w, t in a.items()]
        lines += [f"TRANSITION {s} {final} 1.0" for s in self.finals]
        lines.append(f"TRANSITION {entry} {wake if prefix else 0} 1.0")
        if prefix:
            chain = [wake, *range(n + 4, n + 3 + len(prefix)), 0]
            lines += [f"TRANSITION {a} {b} 1.0 {w}" for a, b, w in zip(chain, chain[1:], prefix, strict=False)]
            lines.append(f"TRANSITION {wake} 0 0.5")
        if fillers:
            lines += [f"TRANSITION {entry} {garbage} {filler_prob:.6g} {w}" for w in fillers]
            lines += [f"TRANSITION {garbage} {garbage} {filler_prob:.6g} {w}" for w in fillers]
            lines.append(f"TRANSITION {garbage} {final} 1.0")
        states = n + 4 + max(len(prefix) - 1, 0)
        head = ["FSG_BEGIN commands", f"NUM_STATES {states}", f"START_STATE {entry}", f"FINAL_STATE {final}"]
        return "\n".join([*head, *lines, "FSG_END", ""])


def _unwind(path: _Path) -> tuple[str, ...]:
    words: list[str] = []
    while path is not None:
        words.append(path[0])
        path = path[1]
    return tuple(reversed(words))


def compile_grammar(grammar: CommandGrammar, known: Callable[[str], bool] = lambda _w: True) -> Automaton:
    """Inline, determinise and minimise ``grammar``; branches with words not ``known`` are dropped."""
    arcs, final = _nfa(grammar, known)
    dfa, finals = _determinise(arcs, final)
    return _minimise(dfa, finals)


def _nfa(grammar: CommandGrammar, known: Callable[[str], bool]) -> tuple[_Arcs, int]:
    arcs: _Arcs = [[], []]

    def new() -> int:
        arcs.append([])
        return len(arcs) - 1

    def emit(node: Node, state: int) -> int | None:
        if isinstance(node, str):
            if not known(node):
                return None
            end = new()
            arcs[state].append((node, end))
            return end
        if node[0] == "ref":
            return emit(grammar.rules[node[1]], state)
        if node[0] == "seq":
            for child in node[1]:
                nxt = emit(child, state)
                if nxt is None:
                    return None
                state = nxt
            return state
        end, alive = new(), bool(node[2])
        if node[2]:
            arcs[state].append((None, end))
        for child in node[1]:
            branch = new()
            arcs[state].append((None, branch))
            stop = emit(child, branch)
            if stop is not None:
                arcs[stop].append((None, end))
                alive = True
        return end if alive else None

    for name in grammar.public:
        stop = emit(("ref", name), 0)
        if stop is not None:
            arcs[stop].append((None, 1))
    return arcs, 1


def _closure(arcs: _Arcs, states: Iterable[int]) -> frozenset[int]:
    stack = list(states)
    seen = set(stack)
    while stack:
        for label, target in arcs[stack.pop()]:
            if label is None and target not in seen:
                seen.add(target)
                stack.append(target)
    return frozenset(seen)


def _determinise(arcs: _Arcs, final: int) -> tuple[list[dict[str, int]], set[int]]:
    first = _closure(arcs, [0])
    ids = {first: 0}
    queue = [first]
    dfa: list[dict[str, int]] = [{}]
    finals: set[int] = set()
    while queue:
        subset = queue.pop()
        index = ids[subset]
        moves: dict[str, set[int]] = {}
        for state in subset:
            for label, target in arcs[state]:
                if label is not None:
                    moves.setdefault(label, set()).add(target)
        for label, targets in moves.items():
            closed = _closure(arcs, targets)
            if closed not in ids:
                ids[closed] = len(ids)
                dfa.append({})
                queue.append(closed)
            dfa[index][label] = ids[closed]
        if final in subset:
            finals.add(index)
    return dfa, finals


def _minimise(dfa: list[dict[str, int]], finals: set[int]) -> Automaton:
    """Moore's partition refinement; the start state keeps number 0."""
    block = [1 if i in finals else 0 for i in range(len(dfa))]
    while True:
        signatures: dict[tuple[object, ...], int] = {}
        refined = []
        for i, arcs in enumerate(dfa):
            key = (block[i], tuple(sorted((w, block[t]) for w, t in arcs.items())))
            refined.append(signatures.setdefault(key, len(signatures)))
        done = len(signatures) == len(set(block))
        block = refined
        if done:
            break
    order = {b: i for i, b in enumerate(dict.fromkeys([block[0], *block]))}
    out: list[dict[str, int]] = [{} for _ in order]
    for i, arcs in enumerate(dfa):
        out[order[block[i]]] = {w: order[block[t]] for w, t in arcs.items()}
    return Automaton(tuple(out), frozenset(order[block[i]] for i in finals))
