"""A sentence in the customer's language, checked against sources in another.

The grounding guard (:mod:`.grounding`) wants most of a sentence's content words
in the source it cites, which a faithful Spanish rendering of an English sentence
never has. :class:`RenderingCheck` judges such a sentence instead by what must not
change in a translation and by what it means:

* every checkable fact it states (numbers with their units, prices, percentages,
  codes, menu paths, links, e-mail addresses, phone numbers) appears in the
  source; unit words of Indonesian and Spanish are read as their English
  equivalents first ("10 hari kerja" states 10 days, "30 minutos" 30 minutes),
  and a number followed by no unit word keeps only its value;
  names are left out (Indonesian capitalises "Anda", Spanish rarely capitalises
  what English does);
* it says what one sentence of that source says: their multilingual embeddings
  are at least :data:`RENDERING_MIN` similar (multilingual-e5-small: 0.90. On the
  120 Starlink questions written in Indonesian and Spanish, a question and its
  English original reach it in 78-80% of cases, two different questions in
  0.3-0.4%, a question and the most similar other one in 10-12%. At 0.88, 93-95%
  of faithful pairs pass, but so did the 0.5B model's "La Mini Kit tiene un campo
  de vista más grande y genera menos heat de su propio" (0.884 to "it generates
  less heat of its own", with a claim of its own added); a rendering this check
  refuses is dropped, and the answer falls back to the article's own sentences);
* it does not flip the polarity of that sentence (a negation in one and not in
  the other, in English, Indonesian or Spanish).

Only an embedder listed in :data:`RENDERING_MIN` can judge meaning across
languages; with any other (MiniLM reads English only) the check stays off and
such sentences are dropped, as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..language import detection
from ..retrieval.vectors import SENTENCE_VECTORS
from ..text import CITATION, Fact, content_terms, facts, split_sentences
from ..types import ScoredPassage

__all__ = ["RENDERING_MIN", "UNIT_WORDS", "RenderingCheck", "canonical_units"]

#: Least cosine similarity between a sentence and the source sentence it renders, per embedder.
RENDERING_MIN: dict[str, float] = {"multilingual-e5-small-q4": 0.90}

#: Unit words of Indonesian and Spanish, as their English equivalents.
UNIT_WORDS: dict[str, str] = {
    "detik": "seconds", "menit": "minutes", "jam": "hours", "hari": "days", "minggu": "weeks",
    "bulan": "months", "tahun": "years", "meter": "metres", "sentimeter": "centimetres",
    "kilometer": "kilometres", "derajat": "degrees", "kali": "times",
    "segundo": "seconds", "segundos": "seconds", "minuto": "minutes", "minutos": "minutes",
    "hora": "hours", "horas": "hours", "día": "days", "días": "days", "dia": "days", "dias": "days",
    "semana": "weeks", "semanas": "weeks", "mes": "months", "meses": "months", "año": "years",
    "años": "years", "metro": "metres", "metros": "metres", "centímetros": "centimetres",
    "kilómetros": "kilometres", "grados": "degrees", "veces": "times", "vez": "times",
    "dólares": "dollars", "dolar": "dollars", "dólar": "dollars",
}  # fmt: skip
_UNIT_RE = re.compile(
    r"(?<=\d)(\s+)(" + "|".join(sorted(map(re.escape, UNIT_WORDS), key=len, reverse=True)) + r")\b", re.I
)
#: words between a number and its unit that say nothing about the unit ("10 hari kerja", "10 días hábiles")
_QUALIFIERS = re.compile(r"(?<=\d)\s+(?:hari|días|dias)\s+(?:kerja|hábiles|habiles|laborables)\b", re.I)
_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|won't|don't|doesn't|isn't|aren't|without|none|nothing|unable"
    r"|tidak|tak|bukan|jangan|belum|tanpa|nunca|jamás|sin|ningún|ninguna|ninguno|nada|tampoco)\b",
    re.I,
)


#: Units a number keeps when compared across languages; any other word after a number (in the
#: customer's language, "router Gen 3 durante...") says nothing, and only the value is compared.
_UNITS = frozenset(
    {"%", "$", "°"}
    | set(
        content_terms(
            "seconds minutes hours days weeks months years metres meters centimetres kilometres degrees "
            "times dollars m cm mm km kg g lb lbs gb mb tb w v wh mbps kbps gbps ghz mhz mph ft nmi"
        )
    )
)


def _comparable(fact: Fact) -> Fact:
    if fact.kind == "number" and fact.unit not in _UNITS:
        return Fact(fact.kind, fact.value, "")
    return fact


def canonical_units(text: str) -> str:
    """``text`` with Indonesian and Spanish unit words after a number written in English."""
    text = _QUALIFIERS.sub(" business days", text)
    return _UNIT_RE.sub(lambda m: m.group(1) + UNIT_WORDS[m.group(2).lower()], text)


class RenderingCheck:
    """Whether a sentence in ``language`` renders a sentence of the sources (module docstring)."""

    def __init__(self, passages: Sequence[ScoredPassage], embedder: Any, language: str) -> None:
        self.embedder = embedder
        self.language = language
        self.threshold = RENDERING_MIN.get(str(getattr(embedder, "name", "")))
        self._sentences = [split_sentences(sp.passage.text) for sp in passages]

    @property
    def enabled(self) -> bool:
        return self.threshold is not None and bool(self.language)

    def applies(self, sentence: str) -> bool:
        """Whether ``sentence`` is written in the customer's language (so this check judges it)."""
        if not self.enabled:
            return False
        found = detection(CITATION.sub(" ", sentence))
        return found.reliable and found.language == self.language

    def supporting(self, sentence: str, sources: Sequence[Any]) -> tuple[list[tuple[float, int]], str]:
        """``(similarity, 1-based source number)`` of the sources the sentence renders, best first,
        and why none does (when none does). ``sources`` are the guard's
        :class:`~grokassist.guard.grounding.SourceFacts`, in passage order."""
        assert self.threshold is not None
        plain = CITATION.sub(" ", sentence).strip()
        stated = [_comparable(f) for f in facts(canonical_units(plain)) if f.kind != "name"]
        vector = np.asarray(self.embedder.embed([plain])[0], dtype=np.float32)
        negated = bool(_NEGATION.search(plain))
        found: list[tuple[float, int]] = []
        reasons: list[str] = []
        for number, (source, sentences) in enumerate(zip(sources, self._sentences, strict=True), start=1):
            missing = [f for f in stated if not source.has_fact(f)]
            if missing:
                reasons.append(f"[{number}] lacks {missing[0].kind} {missing[0].value!r}")
                continue
            if not sentences:
                continue
            scores = SENTENCE_VECTORS.vectors(self.embedder, sentences) @ vector
            best = int(np.argmax(scores))
            if float(scores[best]) < self.threshold:
                reasons.append(f"[{number}] renders no sentence ({float(scores[best]):.2f})")
                continue
            if bool(_NEGATION.search(sentences[best])) != negated:
                reasons.append(f"[{number}] says the opposite")
                continue
            found.append((float(scores[best]), number))
        found.sort(key=lambda t: (-t[0], t[1]))
        return found, "; ".join(reasons[:3]) or "no source"
