"""The extractive backend: answers without a language model.

It picks the sentences of the retrieved passages that best answer the
question (:mod:`grokassist.selection`: meaning, words, the kind of fact asked
for), keeps them in reading order and cites each with its source number. Every
word it says is the sources' own, so it is the grounded fallback when a model's
text is not supported, and the last link of the default chain.

It quotes official and live sources only, never a community one
(:mod:`grokassist.trust`). When the request carries live sources (a status
page, a tool's result: the question asks about the current state), the answer
is theirs, in order, cited with their time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from itertools import pairwise
from typing import Any

import anyio

from ..selection import SentenceScorer
from ..text import Unit, split_units
from ..trust import tier_of
from ..types import Chunk, Usage
from .base import ChatRequest, GenerationSettings, SyncBackend

__all__ = ["ExtractiveBackend"]

#: a sentence that continues the one before it ("It then...", "This takes...")
_CONTINUES = re.compile(
    r"^(it|this|that|these|they|then|otherwise|instead|once|after that|afterwards)\b", re.I
)
#: a sentence that needs the one before it to make sense
_REFERS_BACK = re.compile(r"^(it|this|that|these|they|then|otherwise|instead)\b", re.I)
#: other sentences of the best one's source join it when they score this close to it (at
#: most ``max_sentences`` in all). Measured on the example help centres' questions
#: (docs/evaluation.md): the best sentence alone states every fact of an answer in 29% of
#: them, the best four in 55%; sentences of a second source added more facts from the wrong
#: article than missing ones. Within the best source, 0.5 instead of 0.75 states every fact
#: in 42% of the Starlink answers instead of 31% (Optimus 65% instead of 53%:
#: ``python bench/extractive_sweep.py``); the answers it
#: lengthens are mostly those of the right article (a wrong article's answer gets longer too:
#: answers with a number of no gold article 13.5% instead of 9.6%, Optimus 8.8% instead of 5.9%).
_CLOSE = 0.5


class ExtractiveBackend(SyncBackend):
    """Compose an answer from the best supporting sentences, with ``[n]`` citations.

    ``embedder`` (the knowledge base's, which the assistant hands over) lets it
    compare sentences with the question by meaning, not only by words.
    """

    name = "extractive"

    def __init__(
        self,
        target: str = "",
        *,
        max_sentences: int = 4,
        max_steps: int = 8,
        max_chars: int = 900,
        embedder: Any | None = None,
        **_: object,
    ) -> None:
        self.max_sentences = max_sentences
        self.max_steps = max_steps
        self.max_chars = max_chars
        self.embedder = embedder
        self.defaults = GenerationSettings()

    def select(self, request: ChatRequest) -> list[tuple[int, Unit]]:
        """The chosen ``(source number, sentence)`` pairs, in answer order.

        The best sentence (:class:`~grokassist.selection.SentenceScorer`) anchors
        the answer. A table row stands alone; a step of a list brings the whole
        run of steps around it (up to ``max_steps``) and the sentence that
        introduces them; a sentence brings the one right after it when that one
        continues it ("It...", "Then..."), and the one before it when it starts
        by referring back. Other sentences of the same source that score close
        to the best one join, up to ``max_sentences``, in reading order, with a
        single sentence left between two of them filled in.
        """
        live = self._live(request)
        if live:
            return live
        units, scored = SentenceScorer(self.embedder).score(request.question, request.passages)
        if not scored:
            return []
        best = scored[0]
        rank, pos = best.source, best.position
        run = units[rank]
        if run[pos].kind == "row":  # a table row says it all; its neighbours are other cases
            chosen = [(rank, pos)]
        elif run[pos].kind == "item":
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
            if pos > 0 and run[pos - 1].kind == "sentence" and _REFERS_BACK.match(run[pos].text):
                chosen.insert(0, (rank, pos - 1))
            nxt = pos + 1
            if nxt < len(run) and run[nxt].kind == "sentence" and _CONTINUES.match(run[nxt].text):
                chosen.append((rank, nxt))
        # other sentences of the same source that answer nearly as well, in reading order
        size = sum(len(units[r][p].text) for r, p in chosen)
        for c in scored[1:]:
            if c.score < _CLOSE * best.score or len(chosen) >= self.max_sentences:
                break
            if c.source != rank or (rank, c.position) in chosen or c.unit.kind == "item":
                continue
            if size + len(c.unit.text) > self.max_chars:
                continue
            chosen.append((rank, c.position))
            size += len(c.unit.text)
        chosen = sorted(set(chosen), key=lambda t: t[1])
        # a single sentence between two chosen ones joins them: the answer reads as the source does
        for (_, a), (_, b) in pairwise(chosen):
            if (
                b - a == 2
                and run[a + 1].kind in ("sentence", "item")
                and size + len(run[a + 1].text) <= self.max_chars
            ):
                chosen.append((rank, a + 1))
                size += len(run[a + 1].text)
        chosen = sorted(set(chosen), key=lambda t: t[1])
        return [(r + 1, units[r][p]) for r, p in chosen]

    def _live(self, request: ChatRequest) -> list[tuple[int, Unit]]:
        """The sentences of the live sources, in order (each is short and worded for the question)."""
        picked: list[tuple[int, Unit]] = []
        size = 0
        for number, sp in enumerate(request.passages, start=1):
            if tier_of(sp) != "live":
                continue
            for unit in split_units(sp.passage.text):
                if unit.kind == "heading":
                    continue
                if picked and size + len(unit.text) > self.max_chars:
                    return picked
                # a field of a tool's result is a fact of its own, not a step to number
                picked.append((number, Unit(unit.text, "sentence")))
                size += len(unit.text)
        return picked

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
