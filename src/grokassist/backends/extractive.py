"""The extractive backend: answers without a language model.

It picks the sentences of the retrieved passages that best support the
question (term overlap, weighted by the passage's retrieval rank), keeps them in
reading order and cites each with its source number. It is fast, needs no
model, and is the last link of the default fallback chain.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..text import content_terms, split_sentences
from ..types import Chunk, Usage
from .base import ChatRequest, GenerationSettings, SyncBackend

__all__ = ["ExtractiveBackend"]


class ExtractiveBackend(SyncBackend):
    """Compose an answer from the best supporting sentences, with ``[n]`` citations."""

    name = "extractive"

    def __init__(self, target: str = "", *, max_sentences: int = 3, max_chars: int = 700, **_: object) -> None:
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        self.defaults = GenerationSettings()

    def select(self, request: ChatRequest) -> list[tuple[int, str]]:
        """The chosen ``(source number, sentence)`` pairs, in answer order."""
        terms = set(content_terms(request.question))
        scored: list[tuple[float, int, int, str]] = []
        for rank, sp in enumerate(request.passages):
            weight = 1.0 / (1.0 + 0.25 * rank)
            heading = set(content_terms(" ".join(sp.passage.heading_path)))
            for pos, sentence in enumerate(split_sentences(sp.passage.text)):
                words = content_terms(sentence)
                if len(words) < 3:
                    continue
                hits = terms.intersection(words)
                if not hits and not terms.intersection(heading):
                    continue
                coverage = len(hits) / max(1, len(terms))
                density = len(hits) / (len(set(words)) ** 0.5)
                bonus = 0.15 * len(terms.intersection(heading)) / max(1, len(terms))
                score = weight * (coverage + 0.3 * density + bonus) - 0.01 * pos
                scored.append((score, rank, pos, sentence))
        if not scored:
            # nothing overlaps: fall back to the opening of the best passage
            for rank, sp in enumerate(request.passages[:1]):
                sentences = split_sentences(sp.passage.text)
                return [(rank + 1, s) for s in sentences[:2]]
            return []
        scored.sort(key=lambda t: -t[0])
        best = scored[0][0]
        chosen: list[tuple[float, int, int, str]] = []
        size = 0
        for item in scored:
            if len(chosen) >= self.max_sentences or item[0] < 0.35 * best:
                break
            if size + len(item[3]) > self.max_chars and chosen:
                continue
            if any(item[3] == c[3] for c in chosen):
                continue
            chosen.append(item)
            size += len(item[3])
        # reading order: by source, then position within it
        chosen.sort(key=lambda t: (t[1], t[2]))
        return [(rank + 1, sentence) for _, rank, _, sentence in chosen]

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        picked = self.select(request)
        produced = 0
        for i, (number, sentence) in enumerate(picked):
            end = "" if sentence[-1:] in ".!?:" else "."
            piece = f"{sentence}{end} [{number}]" + (" " if i < len(picked) - 1 else "")
            produced += len(piece.split())
            yield Chunk(text=piece)
        yield Chunk(finish_reason="stop", usage=Usage(prompt_tokens=0, completion_tokens=produced))
