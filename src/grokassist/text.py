"""The one place for text rules: words, stopwords, terms, sentences and checkable facts.

Everything that reads text by rule (chunking, retrieval, prompt trimming, the
extractive backend, the grounding and repetition guards, citation checks)
uses these, so that a sentence or a "content word" means the same thing
everywhere.

* :data:`STOPWORDS` and :func:`content_terms` (stemmed) / :func:`keywords` (unstemmed);
* :func:`split_sentences` (prose), :func:`split_units` (markdown-aware: headings,
  list items, sentences) and :func:`sentence_end` (the end of the last complete
  sentence of a growing stream);
* :func:`facts`: the checkable facts of a sentence (numbers with their units,
  prices, percentages, codes, menu paths, links, e-mail addresses, phone numbers,
  capitalised names), which an answer may only state when its source does.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "CITATION",
    "LIST_MARKER",
    "STOPWORDS",
    "Fact",
    "Unit",
    "compounds",
    "content_terms",
    "facts",
    "keywords",
    "normalise",
    "sentence_end",
    "sentence_ends",
    "split_prose",
    "split_sentences",
    "split_units",
    "strip_markdown",
    "words",
]

#: An inline citation marker such as ``[2]``.
CITATION = re.compile(r"\[(\d{1,2})\]")

_WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")

#: Where a sentence ends: after ``.!?`` and space before a capital, digit or opening
#: mark (not after "e.g.", "i.e." or a list number such as "2."), at a blank line, or
#: before a list item on the next line.
_SENTENCE_END = re.compile(
    r"(?<=[.!?])[\"')\]*]*(?<!\b\d\.)(?<!\d\d\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=[*_\"'(\[]*[A-Z0-9¿¡$€£])"
    r"|\n{2,}|\n(?=\s*(?:[-*•]|\d+[.)])\s)"
)
#: The end of a sentence inside a stream: a boundary as above, or a single line break.
_STREAM_END = re.compile(_SENTENCE_END.pattern + r"|\n")
_MD = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*•]\s+|^\s*\d+[.)]\s+)", re.M)

STOPWORDS: frozenset[str] = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves please thanks thank hi hello get got want need tell know way one also""".split()  # noqa: SIM905
)


@lru_cache(maxsize=1)
def _stemmer() -> object | None:
    try:
        import Stemmer  # PyStemmer

        stemmer: object = Stemmer.Stemmer("english")
        return stemmer
    except ImportError:  # pragma: no cover - PyStemmer is a core dependency
        return None


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (letters and digits, any script), and the joined form of
    each short hyphenated compound (:func:`compounds`)."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)] + compounds(text)


#: a short compound written with a hyphen ("Wi-Fi", "e-mail", "add-on", "pre-heat")
_COMPOUND = re.compile(r"(?<![\w-])([^\W\d_]{1,3})-([^\W\d_]{2,4})(?![\w-])")


def compounds(text: str) -> list[str]:
    """The joined forms of the short hyphenated compounds of ``text`` ("Wi-Fi" -> "wifi"), so that
    a customer who writes "wifi" or "email" finds the article that writes "Wi-Fi" or "e-mail"."""
    return [(a + b).lower() for a, b in _COMPOUND.findall(text)]


def keywords(text: str) -> set[str]:
    """The unstemmed content words of ``text``: lower-cased, no stopwords, two characters or more."""
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 1}


def content_terms(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` without stop words.

    Results are cached: the same retrieved passages are analysed for every
    question that finds them (confidence, extraction, citation checks).
    """
    return list(_content_terms(text))


@lru_cache(maxsize=8192)
def _content_terms(text: str) -> tuple[str, ...]:
    kept = [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    stemmer = _stemmer()
    if stemmer is None or not kept:
        return tuple(kept)
    return tuple(stemmer.stemWords(kept))  # type: ignore[attr-defined]


def strip_markdown(text: str) -> str:
    """Remove heading marks, list bullets and emphasis from ``text``."""
    return _MD.sub("", text).strip()


def normalise(text: str) -> str:
    """Lower case, markdown and extra spaces removed: for comparing sentences."""
    return " ".join(strip_markdown(CITATION.sub("", text)).lower().split())


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
#: the bullet or number of a list item at a line's start ("- ", "5. "): the list's, not the text's
LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", re.M)


class Unit(NamedTuple):
    """A sentence of a passage; ``kind`` is "sentence", "item" (a list item), "row" or "heading"."""

    text: str
    kind: str


def _row(line: str) -> str | None:
    """A markdown table row as a sentence ("Solid red: Emergency stop engaged."), or None for rules."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if not any(cells) or all(set(c) <= set("-: ") for c in cells):
        return None
    cells = [strip_markdown(c) for c in cells if c]
    if len(cells) == 1:
        return cells[0]
    first, rest = cells[0], [c.rstrip(".") for c in cells[1:]]
    return f"{first}: {'; '.join(rest)}."


def split_units(text: str) -> list[Unit]:
    """Split markdown-ish ``text`` into headings, list items, table rows and sentences, in order.

    A table's header row is kept as a "heading" (it names the columns); each body
    row becomes one "row" unit that reads as a sentence ("Solid red: Emergency stop
    engaged; Twist the E-stop button to release.").
    """
    lines: list[Unit] = []
    in_table = False
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            heading = " ".join(strip_markdown(raw).split())
            if heading:
                lines.append(Unit(heading, "heading"))
            in_table = False
            continue
        if raw.count("|") >= 2:
            row = _row(raw)
            if row is not None:
                lines.append(Unit(row, "row" if in_table else "header"))
            in_table = True
            continue
        in_table = False
        lines.append(Unit(raw, "line"))
    units: list[Unit] = []
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            block = "\n".join(buffer)
            buffer.clear()
            for piece in _SENTENCE_END.split(block):
                kind = "item" if _LIST_ITEM.match(piece) else "sentence"
                line = " ".join(strip_markdown(piece).split())
                if len(line) > 1:
                    units.append(Unit(line, kind))

    for unit in lines:
        if unit.kind == "line":
            buffer.append(unit.text)
            continue
        flush()
        if unit.kind == "header":
            units.append(Unit(unit.text, "heading"))
        else:
            units.append(unit)
    flush()
    return units


def split_prose(text: str) -> list[str]:
    """Split one paragraph of plain text at sentence ends (no markdown handling)."""
    return [piece for piece in _SENTENCE_END.split(text) if piece]


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, list items and table rows, without headings."""
    return [u.text for u in split_units(text) if u.kind != "heading"]


def sentence_ends(text: str) -> list[tuple[int, int]]:
    """``(end, next_start)`` of every complete sentence of a growing ``text``, in order.

    A sentence is complete at a sentence boundary that is followed by the start
    of another one, or at a line break; the text after the last one may still grow.
    """
    return [(m.start(), m.end()) for m in _STREAM_END.finditer(text)]


def sentence_end(text: str) -> int:
    """Where the last complete sentence of a growing ``text`` ends (0: none is complete yet)."""
    ends = sentence_ends(text)
    return ends[-1][0] if ends else 0


# -- checkable facts -------------------------------------------------------------------------


class Fact(NamedTuple):
    """A checkable fact of a sentence: ``kind`` and the normalised ``value`` to look for."""

    kind: str  # "number", "code", "path", "link", "email", "phone", "name"
    value: str
    unit: str = ""  # a number's unit, stemmed ("day", "$", "%", "gb"...)


_NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "fifteen": "15",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "sixty": "60",
    "ninety": "90",
    "hundred": "100",
    "once": "1",
    "twice": "2",
    "single": "1",
    "double": "2",
    "half": "0.5",
}
_NUMBER_WORD_RE = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ()./-]{6,}\d(?![\w.])")
_CODE = re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b")
_MONEY = re.compile(r"([$€£¥₹]|\b(?:usd|eur|gbp|aud|cad|idr|rp)\b)\s?(\d[\d,]*(?:\.\d+)?)", re.I)
_NUM = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)*)")
#: one item of a menu path: up to 40 characters, no arrow, starting and ending with a non-space
#: (so that the spaces around an arrow belong to the arrow alone: no backtracking blow-up)
_PATH_ITEM = r"[^\n>→»\s](?:[^\n>→»]{0,38}?[^\n>→»\s])??"
#: a menu path of 2 to 9 items ("Settings > Advanced > Reset"), ended by punctuation or the line
_PATH = re.compile(rf"{_PATH_ITEM}(?:\s*[>→»]\s*{_PATH_ITEM}){{1,8}}(?=\s*[.,;:!?\n]|\s*$)")
_NAME = re.compile(r"(?<=[a-z,;:)]\s)(?:[A-Z][\w'’-]*)(?:\s+(?:[A-Z][\w'’-]*|\d+))*")
#: words that may follow a number without being its unit
_NOT_UNIT = frozenset(
    [
        "and",
        "or",
        "to",
        "of",
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "for",
        "per",
        "each",
        "every",
        "more",
        "less",
        "than",
        "about",
        "up",
        "from",
        "by",
        "with",
        "business",
        "calendar",
        "working",
        "full",
        "consecutive",
        "additional",
        "extra",
        "more",
    ]
)
#: capitalised words that are not names
_COMMON_CAPS = frozenset(
    "I I'm I've I'll If When Then Yes No Note Tip Please You Your We Our The This That It".lower().split()
)


def _numbers_as_digits(text: str) -> str:
    return _NUMBER_WORD_RE.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)


def _number(raw: str) -> str:
    value = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", raw) else raw.replace(",", ".")
    if "." in value:
        value = value.rstrip("0").rstrip(".") or "0"
    return value.lstrip("0") or "0"


def _unit(word: str) -> str:
    word = word.lower().strip()
    if word in ("%", "percent", "per cent"):
        return "%"
    stem = content_terms(word)
    return stem[0] if stem else word


_UNIT_AFTER = re.compile(r"^\s?(%|°\s?[cf]?|[^\W\d_]+)(?:\s+([^\W\d_]+))?")


def _unit_after(after: str) -> str:
    """The unit right after a number: "10 business days" -> "day", "5°" -> "°", "Gen 3: the" -> ""."""
    match = _UNIT_AFTER.match(after)
    if match is None:
        return ""
    first, second = match.group(1), match.group(2)
    if first.startswith("°"):
        return "°"
    if first.lower() in _NOT_UNIT and second:  # "10 business days", "3 more times"
        first = second
    if first.lower() in STOPWORDS or first.lower() in _NOT_UNIT:
        return ""
    return _unit(first)


def _until_stopword(words: list[str]) -> list[str]:
    for i, word in enumerate(words):
        if i and word in STOPWORDS:
            return words[:i]
    return words


def facts(text: str) -> set[Fact]:
    """The checkable facts of ``text`` (citation markers and markdown are ignored).

    Numbers are found whether written as digits or words ("two" -> 2), with the
    unit that follows them (adjectives such as "business" are skipped: "10
    business days" -> 10 day); ranges give both ends; prices keep their currency.
    """
    text = LIST_MARKER.sub(" ", CITATION.sub(" ", text).replace("**", "").replace("`", ""))
    found: set[Fact] = set()
    for match in _URL.finditer(text):
        found.add(Fact("link", match.group(0).rstrip(".,;:").lower().removeprefix("https://")))
    text = _URL.sub(" ", text)
    for match in _EMAIL.finditer(text):
        found.add(Fact("email", match.group(0).lower()))
    text = _EMAIL.sub(" ", text)
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) >= 7 and not re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}", match.group(0).strip()):
            found.add(Fact("phone", digits[-9:]))
    for match in _PATH.finditer(text):
        pieces = re.split(r"\s*(?:>|→|»)\s*", match.group(0))
        parts = [strip_markdown(p).strip(" *_\"'").lower().split() for p in pieces]
        if len(parts) < 2 or not all(parts) or any(len(p) > 5 for p in parts[1:]):
            continue
        # "Go to Settings > ... > Invoices to download": the menu before the first arrow is its last
        # word, and each later item ends at the first stopword
        items = [parts[0][-1]] + [" ".join(_until_stopword(p)) for p in parts[1:]]
        found.add(Fact("path", " > ".join(i for i in items[-4:] if i)))
    codes: list[tuple[int, int]] = []
    for match in _CODE.finditer(text):
        token = match.group(0)
        if not token.isdigit() and not re.fullmatch(r"\d+(st|nd|rd|th|s|am|pm|[a-z]{1,3})", token, re.I):
            found.add(Fact("code", token.lower().replace("-", "")))
            codes.append(match.span())
    for start, end in reversed(codes):  # a code's digits are not a number of their own
        text = text[:start] + " " * (end - start) + text[end:]
    digits_text = _numbers_as_digits(text)
    for match in _MONEY.finditer(digits_text):
        found.add(Fact("number", _number(match.group(2)), "$"))
    for match in _NUM.finditer(_MONEY.sub(" ", digits_text)):
        value = _number(match.group(1))
        found.add(Fact("number", value, _unit_after(digits_text[match.end(1) : match.end(1) + 40])))
    for match in _NAME.finditer(text):
        name = match.group(0)
        first = name.split()[0].lower()
        if first in _COMMON_CAPS or len(name) < 3:
            continue
        found.add(Fact("name", name.lower()))
    return found
