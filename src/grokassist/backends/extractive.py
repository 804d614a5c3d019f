"""The extractive backend: answers without a language model.

It picks the sentences of the retrieved passages that best support the
question (term overlap, weighted by the passage's retrieval rank), keeps them in
reading order and cites each with its source number. It is fast, needs no
model, and is the last link of the default fallback chain.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import anyio

from ..text import Unit, content_terms, split_units
from ..types import Chunk, Usage
from .base import ChatRequest, GenerationSettings, SyncBackend

__all__ = ["ExtractiveBackend"]

# sentences about the article itself ("This page explains...") answer nothing
_META = re.compile(
    r"^(this|the) (article|page|guide|section|document)\b|^in this (article|page|guide)\b", re.I
)


class ExtractiveBackend(SyncBackend):
    """Compose an answer from the best supporting sentences, with ``[n]`` citations."""

    name = "extractive"

    def __init__(
        self,
        target: str = "",
        *,
        max_sentences: int = 3,
        max_steps: int = 8,
        max_chars: int = 900,
        **_: object,
    ) -> None:
        self.max_sentences = max_sentences
        self.max_steps = max_steps
        self.max_chars = max_chars
        self.defaults = GenerationSettings()

    def select(self, request: ChatRequest) -> list[tuple[int, Unit]]:
        """The chosen ``(source number, sentence)`` pairs, in answer order.

        The best supporting sentence anchors the answer. When it is a step of a
        list, the whole run of steps around it is kept (up to ``max_steps``);
        otherwise the sentences right after it in the same source follow. Then
        the best sentence of another source joins if it scores close to the
        anchor.
        """
        terms = set(content_terms(request.question))
        units: list[list[Unit]] = []
        scored: list[tuple[float, int, int]] = []
        for rank, sp in enumerate(request.passages):
            weight = 1.0 / (1.0 + 0.3 * rank)
            heading = terms.intersection(
                content_terms(" ".join((sp.passage.title, *sp.passage.heading_path)))
            )
            items = split_units(sp.passage.text)
            units.append(items)
            for pos, unit in enumerate(items):
                if unit.kind == "heading" or unit.text.endswith("?") or _META.match(unit.text):
                    continue
                words = content_terms(unit.text)
                if len(words) < 2:
                    continue
                hits = terms.intersection(words)
                local = terms.intersection(content_terms(_heading_before(items, pos)))
                if not hits and not heading and not local:
                    continue
                coverage = len(hits) / max(1, len(terms))
                density = len(hits) / (len(set(words)) ** 0.5)
                bonus = 0.2 * len(heading | local) / max(1, len(terms))
                scored.append((weight * (coverage + 0.1 * density + bonus) - 0.02 * pos, rank, pos))
        if not scored:
            return []
        scored.sort(key=lambda t: -t[0])
        best_score, rank, pos = scored[0]
        run = units[rank]
        if run[pos].kind == "item":
            first = pos
            while first > 0 and run[first - 1].kind == "item" and pos - first + 1 < self.max_steps:
                first -= 1
            last = pos
            while last + 1 < len(run) and run[last + 1].kind == "item" and last - first + 1 < self.max_steps:
                last += 1
            chosen = [(rank, i) for i in range(first, last + 1)]
            if first > 0 and run[first - 1].kind == "sentence" and run[first - 1].text.endswith(":"):
                chosen.insert(0, (rank, first - 1))  # the sentence introducing the steps
        else:
            chosen = [(rank, pos)]
            size = len(run[pos].text)
            for nxt in range(pos + 1, len(run)):
                unit = run[nxt]
                if len(chosen) >= self.max_sentences or unit.kind == "heading" or unit.text.endswith("?"):
                    break
                if size + len(unit.text) > self.max_chars:
                    break
                chosen.append((rank, nxt))
                size += len(unit.text)
        size = sum(len(units[r][p].text) for r, p in chosen)
        for score, other_rank, other_pos in scored[1:]:
            if score < 0.8 * best_score:
                break
            text = units[other_rank][other_pos].text
            if other_rank != rank and size + len(text) <= self.max_chars:
                chosen.append((other_rank, other_pos))
                break
        return [(r + 1, units[r][p]) for r, p in chosen]

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        picked = self.select(request)
        produced = 0
        step = 0
        for i, (number, unit) in enumerate(picked):
            text = unit.text if unit.text[-1:] in ".!?:" else unit.text + "."
            if unit.kind == "item":
                step += 1
                text = f"{step}. {text}"
            nxt = picked[i + 1] if i + 1 < len(picked) else None
            same_group = nxt is not None and nxt[0] == number
            if not same_group:
                text += f" [{number}]"
            if nxt is not None:
                text += "\n" if nxt[1].kind == "item" or unit.kind == "item" else " "
            produced += len(text.split())
            yield Chunk(text=text)
        yield Chunk(finish_reason="stop", usage=Usage(prompt_tokens=0, completion_tokens=produced))

    async def astream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        if type(self).stream is not ExtractiveBackend.stream:  # a subclass that streams its own way
            async for chunk in super().astream(request):
                yield chunk
            return
        # the answer is composed at once (about a millisecond): one worker-thread hop for
        # all of it instead of one per piece, which matters to a busy server
        for chunk in await anyio.to_thread.run_sync(lambda: list(self.stream(request))):
            yield chunk


def _heading_before(units: list[Unit], pos: int) -> str:
    """The nearest heading above ``units[pos]`` inside the passage, if any."""
    for i in range(pos - 1, -1, -1):
        if units[i].kind == "heading":
            return units[i].text
    return ""
