"""Whether the sources answer a question, not only whether they resemble it.

Similarity (:func:`grokassist.assistant.confidence`) says the sources are about
the same things as the question; a question about a price the help centre
never lists ("How much is the Mini Vehicle Mount?") is just as similar to the
article that describes the mount. Three checks look at what the question asks
for instead:

* **Personal cases**: a question about the customer's own order, ticket,
  refund or place in a queue ("Has my replacement shipped yet?") cannot be
  answered from articles; it goes to a person.
* **Expected answer**: a question that asks for a price, a count, a
  duration or a measure (a size, a speed...) is answered only by text that
  states one. :func:`expects` names
  what a question asks for and :func:`answers` checks a candidate answer.
  The fact must be stated *of the thing asked about*: a question about the
  price of the "Mini Vehicle Mount" is not answered by the price of another
  product in the same article, so the sentence stating it (with its headings)
  must name the question's subject (:func:`subject_names`: its runs of
  capitalised words, and codes).

Names alone are no reason to abstain: a customer's own words (their town,
their game console) appear in answerable questions as often as in others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .text import STOPWORDS, content_terms, facts, split_units
from .types import ScoredPassage

__all__ = [
    "Answerability",
    "Expected",
    "answerability",
    "answers",
    "expects",
    "personal_case",
    "subject_names",
]

Expected = Literal["price", "count", "duration", "measure"]


@dataclass(frozen=True)
class Answerability:
    """The verdict, and why."""

    answerable: bool
    reason: str = ""
    expects: Expected | None = None


_PRICE = re.compile(
    r"\b(?:price|prices|pricing|cost|costs|fee|fees|charge|charges|rate|tariff|pay for|subscription fee)\b"
    r"|\bhow much\b(?![^?.]{0,30}\b(?:data|power|space|room|weight|load|time|snow|speed|bandwidth|"
    r"electricity|longer|faster|further|weigh|lift|carry|hold)\b)",
    re.I,
)
_FREE = re.compile(r"\b(?:is|are) (?:it|they|there|this|that)?\s*(?:free|included|extra)\b", re.I)
_COUNT = re.compile(r"\bhow many\b", re.I)
#: a size, weight, speed, distance... : answered by a number with a unit
_MEASURE = re.compile(
    r"\bhow (?:tall|high|big|heavy|wide|deep|far|fast|loud|hot|cold|thick|large|small|close|strong)\b"
    r"|\bwhat (?:size|weight|height|width|depth|length|voltage|wattage|speed|temperature|capacity|"
    r"distance|resolution)\b|\bhow much (?:does it|do they|does the \w+(?: \w+)?) weigh\b",
    re.I,
)
_DURATION = re.compile(r"\bhow long\b|\bhow many (?:days|hours|minutes|seconds|weeks|months|years)\b", re.I)
_PERSONAL = re.compile(
    r"\b(?:my|our)\s+(?:\w+\s+){0,2}(?:order|ticket|case|claim|refund|replacement|shipment|package|parcel|"
    r"delivery|application|request|complaint|return|rma|warranty claim)\b[^?]{0,60}\b(?:status|shipped|"
    r"arrive|arriving|arrived|approved|processed|closed|resolved|received|sent|delivered|yet|tracking|"
    r"where is|when will|why did|why was|why has)\b"
    r"|\b(?:status|tracking (?:number|code)|position) (?:of|on|in) (?:my|our)\b"
    r"|\bwhat position am i\b|\bwhere am i (?:on|in) (?:the )?(?:queue|waitlist|waiting list)\b"
    r"|\b(?:has|have|did|was|were) (?:my|our)\s+(?:\w+\s+){0,2}(?:order|ticket|refund|replacement|claim|"
    r"shipment|package|return|request)\b",
    re.I,
)
#: a run of capitalised words (and numbers) that does not start the question
_NAME_RUN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’+-]*(?:\s+(?:[A-Z][\w'’+-]*|\d+))*")
#: capitalised words that are not names (sentence-initial words are skipped anyway)
_COMMON = frozenset(
    ["i", "i'm", "i've", "i'll", "i'd", "ok", "okay", "yes", "no", "hi", "hello", "hey", "please", "thanks"]
)
_TIME_UNITS = frozenset(
    content_terms(
        "second seconds minute minutes hour hours day days week weeks month months year years night"
    )
)


#: the units a measure question can be answered in, by the word that asks for it
_LENGTH = "m cm mm km ft feet foot in inch inches metre metres meter meters mile miles mph"
_DIMENSIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), units)
    for pattern, units in (
        (
            r"\b(?:tall|high|height|long|length|wide|width|deep|depth|far|close|distance|big|large|thick)\b",
            _LENGTH,
        ),
        (r"\b(?:heavy|weigh|weight)", "kg g lb lbs pound pounds ounce ounces oz ton tons"),
        (r"\b(?:fast|speed)\b", _LENGTH + " h hour kph kmh mbps kbps gbps"),
        (r"\b(?:loud|noise|decibels?)\b", "db decibel decibels"),
        (r"\b(?:hot|cold|warm|temperature)\b", "° c f degree degrees"),
        (r"\bvolt", "v volt volts"),
        (r"\b(?:watt|power draw)", "w watt watts wh kwh"),
    )
)


def _measure_units(question: str) -> frozenset[str] | None:
    """The units that answer a measure question (None: any unit will do)."""
    for pattern, units in _DIMENSIONS:
        if pattern.search(question):
            return frozenset(_unit_term(u) for u in units.split())
    return None


def _unit_term(word: str) -> str:
    stem = content_terms(word)
    return stem[0] if stem else word.lower()


def expects(question: str) -> Expected | None:
    """What kind of fact the question asks for: a price, a count, a duration, a measure, or ``None``."""
    if _DURATION.search(question):
        return "duration"
    if _PRICE.search(question) and not _FREE.search(question):
        return "price"
    if _COUNT.search(question):
        return "count"
    if _MEASURE.search(question):
        return "measure"
    return None


def answers(expected: Expected | None, text: str, question: str = "") -> bool:
    """Whether ``text`` states the kind of fact the question asks for (a measure in the units its
    ``question`` asks for: a height in metres or feet, not kilograms)."""
    if expected is None:
        return True
    stated = [f for f in facts(text) if f.kind == "number"]
    if expected == "price":
        return any(f.unit == "$" for f in stated) or bool(
            re.search(r"\b(?:free|no charge|at no cost)\b", text, re.I)
        )
    if expected == "duration":
        return any(f.unit in _TIME_UNITS for f in stated) or bool(
            re.search(r"\b(?:immediately|instantly|right away|at once|overnight|until)\b", text, re.I)
        )
    if expected == "measure":
        units = _measure_units(question)
        return any(f.unit and (units is None or f.unit in units) for f in stated)
    return bool(stated) or bool(re.search(r"\b(?:one|two|three|four|five|no|none|unlimited)\b", text, re.I))


def personal_case(question: str) -> bool:
    """Whether the question asks about the customer's own case (an order, a ticket, a refund)."""
    return bool(_PERSONAL.search(question))


def answerability(question: str, passages: Sequence[ScoredPassage]) -> Answerability:
    """Whether ``passages`` can answer ``question`` (see the module docstring).

    A question that asks for a price, count or duration is answerable only if
    one of the sources states such a fact; the answer itself is checked again
    with :func:`answers` once it is written.
    """
    if not passages:
        return Answerability(False, "no_sources")
    if personal_case(question):
        return Answerability(False, "personal_case")
    expected = expects(question)
    if expected is None:
        return Answerability(True)
    names = subject_names(question)
    for sp in passages:
        heading = " ".join((sp.passage.title, *sp.passage.heading_path))
        for unit in split_units(sp.passage.text):
            if unit.kind == "heading" or not answers(expected, unit.text, question):
                continue
            # the price (count, duration) must be stated of the thing asked about: a sentence
            # stating one must name (with its headings) one of the question's names in full
            context = set(content_terms(f"{heading} {unit.text}"))
            if not names or any(name <= context for name in names):
                return Answerability(True, expects=expected)
    return Answerability(False, f"no_{expected}_in_sources", expected)


def subject_names(question: str) -> list[set[str]]:
    """The names a question is about, each a set of stemmed terms: runs of capitalised words
    (not the first word) and codes. "What does the Mini Kit cost, and Roam Unlimited?" ->
    [{mini, kit}, {roam, unlimit}].
    """
    names: list[set[str]] = []
    for match in _NAME_RUN.finditer(question.strip()):
        words = [w for w in match.group(0).split() if w.lower() not in _COMMON and w.lower() not in STOPWORDS]
        terms = {t for w in words for t in content_terms(w)}
        if terms:
            names.append(terms)
    names.extend({fact.value} for fact in facts(question) if fact.kind == "code")
    return names
