"""The grounding guard: every sentence shown must be supported by a source it cites.

A sentence is *supported* by a source passage when

* every checkable fact it states (:func:`grokassist.text.facts`: numbers with
  their units, prices, percentages, codes, menu paths, links, e-mail addresses,
  phone numbers, capitalised names) appears in that source;
* most of its content words appear there (``min_coverage``, stemmed); and
* it does not flip the polarity of the source sentence it restates ("you can"
  where the source says "you cannot").

The guard checks each sentence as it completes (streaming), keeps its ``[n]``
markers that point to supporting sources, re-points them when another source
supports the sentence and none of the cited ones does, and drops the sentence
when no source supports it. What was dropped, and why, is kept in
:attr:`GroundingGuard.dropped`. Only official and live sources support a
sentence: a community source (:mod:`grokassist.trust`) supports none.

A sentence in the customer's language over sources in another is judged by
:class:`~grokassist.guard.rendering.RenderingCheck` instead (its facts must be in
the source, and it must mean what a source sentence means), when the guard is
given one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..text import (
    CITATION,
    LIST_MARKER,
    Fact,
    content_terms,
    facts,
    normalise,
    sentence_end,
    split_sentences,
    words,
)
from ..trust import is_fact
from ..types import ScoredPassage
from .rendering import RenderingCheck

__all__ = ["Dropped", "GroundingGuard", "SourceFacts", "Verdict", "check_sentence"]

#: Share of a sentence's content words its source must contain. Measured on the
#: example help centres' questions with the packaged models (docs/evaluation.md):
#: correct paraphrases sit at 0.6-1.0, sentences with invented content below 0.5.
MIN_COVERAGE = 0.6

_NEGATION = re.compile(
    r"\b(not|no|never|cannot|can't|cant|won't|don't|doesn't|didn't|isn't|aren't|wasn't|shouldn't|mustn't"
    r"|without|neither|nor|none|nothing|unable|n't)\b",
    re.I,
)
#: sentences that only restate the question, ask one, or talk about the prompt itself
_META = re.compile(
    r"^(question|answer|sources?|customer|agent|context|user|assistant|system)\s*:|"
    r"\b(the|these|those|provided|given) (sources?|documents?|context|passages?)\b|"
    r"\bbased on (the|this) (information|sources?)\b",
    re.I,
)
_MARKERS = re.compile(r"(?:\s*\[\d{1,2}\])+")


@dataclass(frozen=True)
class SourceFacts:
    """What a source passage can support: its words, stemmed terms, facts and sentences."""

    text: str
    lowered: str
    words: frozenset[str]
    terms: frozenset[str]
    facts: frozenset[Fact]
    sentences: tuple[tuple[frozenset[str], bool], ...]  # (terms, negated) per sentence
    heading: str = ""  # the source's title and heading path, normalised

    @classmethod
    def of(cls, text: str, heading: str = "") -> SourceFacts:
        sentences = tuple(
            (frozenset(content_terms(s)), bool(_NEGATION.search(s))) for s in split_sentences(text)
        )
        return cls(
            text=text,
            lowered=" ".join(text.lower().replace("**", "").split()),
            words=frozenset(words(text)),
            terms=frozenset(content_terms(text)),
            facts=frozenset(facts(text)),
            sentences=sentences,
            heading=normalise(heading),
        )

    def has_fact(self, fact: Fact) -> bool:
        """Whether this source states ``fact`` (a number with the same unit, the same code...)."""
        if fact.kind == "number":
            same = [f for f in self.facts if f.kind == "number" and f.value == fact.value]
            if not same:
                return False
            return not fact.unit or any(f.unit == fact.unit for f in same) or fact.unit in self.terms
        if fact.kind == "name":
            return all(w in self.words for w in words(fact.value))
        if fact.kind == "path":
            return all(part in self.lowered for part in fact.value.split(" > "))
        if fact.kind in ("code", "phone"):
            return fact in self.facts or fact.value in re.sub(r"[^a-z0-9]", "", self.lowered)
        return fact in self.facts or fact.value in self.lowered


@dataclass(frozen=True)
class Verdict:
    """How one sentence fares against the sources."""

    supported: bool
    sources: tuple[int, ...] = ()  # 1-based numbers of the supporting sources, best first
    coverage: float = 0.0
    reason: str = ""


def check_sentence(
    sentence: str, sources: Sequence[SourceFacts], *, min_coverage: float = MIN_COVERAGE
) -> Verdict:
    """Whether ``sentence`` (citation markers ignored) is supported, and by which sources."""
    plain = LIST_MARKER.sub("", CITATION.sub(" ", sentence).strip())
    if _META.search(plain) or plain.rstrip().endswith("?"):
        return Verdict(False, reason="not an answer sentence")
    if any(
        s.heading and normalise(plain).strip(" .:") in (s.heading, s.heading.split(" > ")[-1])
        for s in sources
    ):
        return Verdict(False, reason="a source's heading, not an answer")
    terms = set(content_terms(plain))
    stated = facts(plain)
    if not terms and not stated:
        return Verdict(False, reason="no content")
    negated = bool(_NEGATION.search(plain))
    best: list[tuple[float, int]] = []
    reasons: list[str] = []
    for number, source in enumerate(sources, start=1):
        missing = [f for f in stated if not source.has_fact(f)]
        if missing:
            reasons.append(f"[{number}] lacks {missing[0].kind} {missing[0].value!r}")
            continue
        coverage = len(terms & source.terms) / len(terms) if terms else 1.0
        if coverage < min_coverage:
            reasons.append(f"[{number}] covers {coverage:.2f} of its words")
            continue
        if terms and _flips_polarity(terms, negated, source):
            reasons.append(f"[{number}] says the opposite")
            continue
        best.append((coverage, number))
    if not best:
        return Verdict(False, reason="; ".join(reasons[:3]) or "no source")
    best.sort(key=lambda t: (-t[0], t[1]))
    return Verdict(True, tuple(n for _, n in best), best[0][0])


def _flips_polarity(terms: set[str], negated: bool, source: SourceFacts) -> bool:
    """Whether the source sentence closest to ``terms`` has the opposite polarity."""
    closest: tuple[float, bool] | None = None
    for sentence_terms, sentence_negated in source.sentences:
        if not sentence_terms:
            continue
        overlap = len(terms & sentence_terms) / len(terms)
        if closest is None or overlap > closest[0]:
            closest = (overlap, sentence_negated)
    if closest is None or closest[0] < 0.5:
        return False
    return closest[1] != negated


@dataclass
class Dropped:
    """A sentence the guard withheld."""

    sentence: str
    reason: str


@dataclass
class GroundingGuard:
    """Checks streamed answer text sentence by sentence against the sources.

    ``feed`` returns the checked text that may be shown now (complete, supported
    sentences with their citations fixed); ``flush`` checks the last sentence.
    """

    passages: Sequence[ScoredPassage]
    min_coverage: float = MIN_COVERAGE
    dropped: list[Dropped] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    _buffer: str = ""
    _sources: list[SourceFacts] = field(default_factory=list)
    rendering: RenderingCheck | None = (
        None  # sentences in the customer's language over other-language sources
    )

    def __post_init__(self) -> None:
        # a community source (grokassist.trust) supports nothing: its claims are never stated as fact
        self._sources = [
            SourceFacts.of(sp.passage.indexed_text(), sp.passage.heading())
            if is_fact(sp)
            else SourceFacts.of("")
            for sp in self.passages
        ]

    @property
    def text(self) -> str:
        """The supported text so far."""
        return "".join(self.kept)

    def feed(self, piece: str) -> str:
        self._buffer += piece
        end = sentence_end(self._buffer)
        if not end:
            return ""
        done, self._buffer = self._buffer[:end], self._buffer[end:]
        return self._check(done)

    def flush(self) -> str:
        done, self._buffer = self._buffer, ""
        return self._check(done)

    def _check(self, text: str) -> str:
        out: list[str] = []
        for raw in _sentences_with_markers(text):
            sentence = raw.strip()
            if not sentence:
                continue
            verdict = check_sentence(sentence, self._sources, min_coverage=self.min_coverage)
            if not verdict.supported and self.rendering is not None and self.rendering.applies(sentence):
                found, why = self.rendering.supporting(sentence, self._sources)
                verdict = (
                    Verdict(True, tuple(n for _, n in found), found[0][0])
                    if found
                    else Verdict(False, reason=why)
                )
            if not verdict.supported:
                self.dropped.append(Dropped(sentence, verdict.reason))
                continue
            cited = [int(n) for n in CITATION.findall(sentence)]
            keep = [n for n in dict.fromkeys(cited) if n in verdict.sources]
            body = _MARKERS.sub("", sentence).rstrip()
            markers = "".join(f"[{n}]" for n in (keep or verdict.sources[:1]))
            fixed = _attach(body, markers)
            prefix = "\n" if fixed[:1].isdigit() or fixed.startswith(("-", "*", "•")) else " "
            out.append((prefix if self.kept or out else "") + fixed)
        shown = "".join(out)
        if shown:
            self.kept.append(shown)
        return shown


def _attach(body: str, markers: str) -> str:
    """``body`` with ``markers`` before its final punctuation: "Restart it [1]."."""
    match = re.search(r"[.!?:]+$", body)
    if match:
        return f"{body[: match.start()].rstrip()} {markers}{match.group(0)}"
    return f"{body} {markers}"


def _sentences_with_markers(text: str) -> list[str]:
    """Split finished text into sentences, keeping each sentence's trailing ``[n]`` markers."""
    pieces: list[str] = []
    for line in re.split(r"\n+", text):
        if not line.strip():
            continue
        parts = re.split(r"(?<=[.!?])(?<!\b\d\.)((?:\s*\[\d{1,2}\])*)\s+(?=[*_\"'(\[]*[A-Z0-9¿¡$€£])", line)
        # re.split with a group: text, markers, text, markers, ...
        current = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                current += part
            else:
                current += part or ""
                pieces.append(current)
                current = ""
        if current.strip():
            pieces.append(current)
    return pieces
