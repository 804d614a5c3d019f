"""Small text utilities shared by the answer side: sentences, terms, citations."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

__all__ = ["CITATION", "Unit", "content_terms", "split_sentences", "split_units", "strip_markdown"]

#: An inline citation marker such as ``[2]``.
CITATION = re.compile(r"\[(\d{1,2})\]")

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\b\d\.)(?<!\d\d\.)(?<!\be\.g\.)(?<!\bi\.e\.)\s+(?=[A-Z0-9\"'(\[])"
    r"|\n{2,}|\n(?=\s*(?:[-*•]|\d+[.)])\s)"
)
_MD = re.compile(r"(\*\*|__|`|^#+\s*|^\s*[-*•]\s+|^\s*\d+[.)]\s+)", re.M)

_STOP = frozenset(
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


def content_terms(text: str) -> list[str]:
    """Lower-cased, stemmed words of ``text`` without stop words.

    Results are cached: the same retrieved passages are analysed for every
    question that finds them (confidence, extraction, citation checks).
    """
    return list(_content_terms(text))


@lru_cache(maxsize=8192)
def _content_terms(text: str) -> tuple[str, ...]:
    words = [w.lower().replace("’", "'") for w in _WORD.findall(text)]
    words = [w for w in words if w not in _STOP and (len(w) > 1 or w.isdigit())]
    stemmer = _stemmer()
    if stemmer is None:
        return tuple(words)
    return tuple(stemmer.stemWords(words))  # type: ignore[attr-defined]


def strip_markdown(text: str) -> str:
    """Remove heading marks, list bullets and emphasis from ``text``."""
    return _MD.sub("", text).strip()


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


class Unit(NamedTuple):
    """A sentence of a passage; ``kind`` is "sentence", "item" (a list item) or "heading"."""

    text: str
    kind: str


def split_units(text: str) -> list[Unit]:
    """Split markdown-ish ``text`` into headings, list items and sentences, in order.

    Table rows are dropped: they read badly out of context.
    """
    out: list[Unit] = []
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            heading = " ".join(strip_markdown(raw).split())
            if heading:
                out.append(Unit(heading, "heading"))
            continue
        if raw.count("|") >= 2:
            continue
        out.append(Unit(raw, "line"))
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

    for unit in out:
        if unit.kind == "heading":
            flush()
            units.append(unit)
        else:
            buffer.append(unit.text)
    flush()
    return units


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences and list items, without headings (markdown-aware, heuristic)."""
    return [u.text for u in split_units(text) if u.kind != "heading"]
