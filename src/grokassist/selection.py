"""Choosing the source sentences that answer a question.

Every sentence, list step and table row of the retrieved sources
(:func:`grokassist.text.split_units`) is scored against the question by

* meaning: the cosine similarity between the question and the sentence read
  with its heading path, when an embedder is at hand (the knowledge base's);
* words: the share of the question's content words the sentence and its
  local heading contain, weighted by how rare each word is among the
  candidates (a word every sentence has tells nothing);
* the kind of fact asked for: a price, a count or a duration
  (:func:`grokassist.answerability.expects`) that the sentence states;
* the source's retrieval rank.

The extractive backend composes its answer from the best ones; the same scores
could rank candidates for any other composer. Sentences of community sources
(:mod:`grokassist.trust`) are never candidates: only the attributed report of
community posts asks for them (``community=True``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .answerability import answers, expects
from .guard.injection import scan
from .retrieval.vectors import SENTENCE_VECTORS
from .text import Unit, content_terms, split_units
from .trust import is_fact, tier_of
from .types import ScoredPassage

__all__ = ["Candidate", "SentenceScorer", "candidates", "evidence"]

# sentences about the article itself ("This page explains...") answer nothing
_META = re.compile(
    r"^(this|the) (article|page|guide|section|document)\b|^in this (article|page|guide)\b|^see \*", re.I
)

#: Weights of the parts of a sentence's score, chosen on the example help centres'
#: questions (docs/evaluation.md): meaning matters most; words break its ties and
#: carry questions with rare terms (codes, names); the expected kind of fact is a
#: strong hint; the source's rank a weak one.
_W_DENSE, _W_WORDS, _W_KIND, _W_RANK = 1.0, 0.6, 0.25, 0.08


@dataclass(frozen=True)
class Candidate:
    """A sentence of a source, where it sits, and how well it answers the question."""

    source: int  # 0-based index of the source passage
    position: int  # index of the unit in the source's units
    unit: Unit
    heading: str  # the nearest heading above it in the passage ("" if none)
    score: float = 0.0


def _heading_before(units: Sequence[Unit], pos: int) -> str:
    for i in range(pos - 1, -1, -1):
        if units[i].kind == "heading":
            return units[i].text
    return ""


def candidates(
    passages: Sequence[ScoredPassage], *, community: bool = False
) -> tuple[list[list[Unit]], list[Candidate]]:
    """Every source's units, and the units that could be part of an answer: of official and live
    sources, or (``community``) of community sources only."""
    units: list[list[Unit]] = []
    out: list[Candidate] = []
    for index, sp in enumerate(passages):
        items = split_units(sp.passage.text)
        units.append(items)
        if is_fact(sp) == community:  # community sentences are never stated as fact
            continue
        for pos, unit in enumerate(items):
            if unit.kind == "heading" or unit.text.endswith("?") or _META.match(unit.text):
                continue
            if len(content_terms(unit.text)) < 2:
                continue
            if scan(unit.text) is not None:  # never quote an instruction planted in a document
                continue
            out.append(Candidate(index, pos, unit, _heading_before(items, pos)))
    return units, out


class SentenceScorer:
    """Scores candidate sentences against a question (see the module docstring)."""

    def __init__(self, embedder: Any | None = None) -> None:
        self.embedder = embedder

    def score(
        self, question: str, passages: Sequence[ScoredPassage], *, community: bool = False
    ) -> tuple[list[list[Unit]], list[Candidate]]:
        """The sources' units and the candidates with their scores, best first (``community``:
        the sentences of community sources instead, to be reported with attribution)."""
        units, found = candidates(passages, community=community)
        if not found:
            return units, []
        terms = set(content_terms(question))
        # a word found in many candidates says little about which one answers
        frequency: Counter[str] = Counter()
        local_terms = []
        for c in found:
            local = set(content_terms(f"{c.heading} {c.unit.text}"))
            local_terms.append(local)
            frequency.update(local & terms)
        weight = {t: math.log(1 + len(found) / (1 + frequency[t])) for t in terms}
        total = sum(weight.values()) or 1.0
        dense = self._dense(question, passages, found)
        expected = expects(question)
        scored = []
        for i, c in enumerate(found):
            words = sum(weight[t] for t in terms & local_terms[i]) / total
            kind = 1.0 if expected is not None and answers(expected, c.unit.text, question) else 0.0
            rank = 1.0 / (1.0 + c.source)
            value = _W_DENSE * dense[i] + _W_WORDS * words + _W_KIND * kind + _W_RANK * rank
            scored.append(Candidate(c.source, c.position, c.unit, c.heading, round(value, 6)))
        scored.sort(key=lambda c: (-c.score, c.source, c.position))
        return units, scored

    def _dense(
        self, question: str, passages: Sequence[ScoredPassage], found: Sequence[Candidate]
    ) -> list[float]:
        if self.embedder is None:
            return [0.0] * len(found)
        texts = []
        for c in found:
            p = passages[c.source].passage
            context = " > ".join(h for h in (p.title, c.heading) if h)
            texts.append(f"{context}\n{c.unit.text}" if context else c.unit.text)
        vectors = SENTENCE_VECTORS.vectors(self.embedder, texts)
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        return [float(v) for v in vectors @ query]


def evidence(
    question: str,
    passages: Sequence[ScoredPassage],
    embedder: Any | None = None,
    *,
    max_units: int = 8,
    relative: float = 0.5,
) -> tuple[ScoredPassage, ...]:
    """The sources cut down to the sentences that may answer the question, in reading order.

    A model given five whole passages on two cores needs seconds to read them
    and, when small, loses the one sentence that matters among the others; given
    the few best sentences of each source (those scoring at least ``relative``
    times the best, ``max_units`` in all, a step of a list bringing its
    neighbours), it reads less and answers from the right ones. Source ``i``
    stays source ``i`` (an empty one keeps its best sentence), so citations
    keep their numbers. Live sources (a status, a tool's result) are short and
    stay whole; community sources are emptied (models never read them).
    """
    units, scored = SentenceScorer(embedder).score(question, passages)
    floor = relative * scored[0].score if scored else 0.0
    keep: dict[int, set[int]] = {}
    count = 0
    for c in scored:
        if c.score < floor or count >= max_units:
            break
        chosen = keep.setdefault(c.source, set())
        if c.position in chosen:
            continue
        chosen.add(c.position)
        count += 1
        if c.unit.kind == "item":  # a step needs its neighbours
            run = units[c.source]
            for step in (c.position - 1, c.position + 1):
                if 0 <= step < len(run) and run[step].kind == "item" and step not in chosen:
                    chosen.add(step)
                    count += 1
    out = []
    for index, sp in enumerate(passages):
        tier = tier_of(sp)
        if tier != "official":
            text = sp.passage.text if tier == "live" else ""
            out.append(sp.model_copy(update={"passage": sp.passage.model_copy(update={"text": text})}))
            continue
        positions = keep.get(index)
        if not positions:
            best = next((c for c in scored if c.source == index), None)
            positions = {best.position} if best is not None else set()
        run = units[index]
        lines = []
        for pos in sorted(positions):
            unit = run[pos]
            lines.append(f"- {unit.text}" if unit.kind == "item" else unit.text)
        text = "\n".join(lines) if lines else sp.passage.text
        out.append(sp.model_copy(update={"passage": sp.passage.model_copy(update={"text": text})}))
    return tuple(out)
