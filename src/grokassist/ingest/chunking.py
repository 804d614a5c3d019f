"""Heading-aware chunking of documents into passages.

The text is cut into sections at markdown heading lines; each section carries its
heading path (H2 down: a leading H1, or one equal to the title, names the document
and is its title; a later, different H1 starts a new top-level path). A section
over ``chunk_tokens`` is split at paragraph, then sentence boundaries, with about
``overlap`` tokens repeated between consecutive pieces. Runs of very small
sections under one parent are merged, keeping their headings in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from ..errors import ConfigurationError
from ..text import split_prose
from ..types import Document, MetadataValue, Passage
from ._text import HEADING_RE, first_h1, iter_markdown_lines

__all__ = ["chunk_document", "chunk_documents", "count_tokens"]

_TOKEN_RE = re.compile(r"\w+|[^\w\s]+")
_WORD_RE = re.compile(r"\w")
_LINE_BLOCK_RE = re.compile(r"^(?: {4}|\t|\s*(?:[-*+•]|\d+[.)])\s|.*\|)")


def _raw_count(text: str) -> int:
    return len(_TOKEN_RE.findall(text))


def _scale(raw: int) -> int:
    return (raw * 13 + 9) // 10  # ceil(raw * 1.3)


def count_tokens(text: str) -> int:
    """Approximate model tokens: words and punctuation runs times 1.3, rounded up."""
    return _scale(_raw_count(text))


@dataclass(slots=True)
class _Section:
    path: tuple[str, ...]
    heading: str  # the heading line as written, "" for text before the first heading
    body: str
    tokens: int


@dataclass(slots=True)
class _Unit:
    text: str
    tokens: int
    block: int
    sep: str  # joins this unit to the previous one of the same block


def chunk_document(doc: Document, *, chunk_tokens: int = 200, overlap: int = 40) -> list[Passage]:
    """Split ``doc`` into passages of at most about ``chunk_tokens`` tokens.

    Passage ids are ``f"{doc.id}#{position}"``. A document with any text yields
    at least one passage; no passage is empty.
    """
    if chunk_tokens < 1:
        raise ConfigurationError(f"chunk_tokens must be positive, got {chunk_tokens}")
    if not 0 <= overlap < chunk_tokens:
        raise ConfigurationError(f"overlap must be >= 0 and < chunk_tokens ({chunk_tokens}), got {overlap}")
    if not doc.text.strip():
        return []
    title = doc.title or first_h1(doc.text)
    sections, headings = _sections(doc.text, title)
    pieces: list[tuple[tuple[str, ...], str]] = []
    for group in _merge_small(sections, chunk_tokens):
        path, text, tokens = _render_group(group)
        if tokens <= chunk_tokens:
            pieces.append((path, text))
        else:
            pieces.extend((path, piece) for piece in _split(text, chunk_tokens, overlap))
    if not pieces:  # nothing but headings
        pieces.append(((), "\n".join(headings) or doc.text.strip()))
    metadata: dict[str, MetadataValue] = {
        k: v for k, v in doc.metadata.items() if isinstance(v, (str, int, float, bool))
    }
    return [
        Passage(
            id=f"{doc.id}#{position}",
            doc_id=doc.id,
            text=text,
            title=title,
            source=doc.source,
            heading_path=path,
            position=position,
            metadata=metadata,
        )
        for position, (path, text) in enumerate(pieces)
    ]


def chunk_documents(docs: Iterable[Document], *, chunk_tokens: int = 200, overlap: int = 40) -> list[Passage]:
    """:func:`chunk_document` over many documents, in order."""
    return [p for doc in docs for p in chunk_document(doc, chunk_tokens=chunk_tokens, overlap=overlap)]


# -- sections ---------------------------------------------------------------------------------


def _sections(text: str, title: str) -> tuple[list[_Section], list[str]]:
    """Sections with a non-empty body, and every heading text seen."""
    sections: list[_Section] = []
    headings: list[str] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    heading = ""
    path: tuple[str, ...] = ()
    folded_title = title.strip().casefold()

    def close() -> None:
        body = "\n".join(lines).strip("\n")
        if _WORD_RE.search(body):  # skip empty bodies and bare rules such as "---"
            sections.append(_Section(path, heading, body, count_tokens(body)))
        lines.clear()

    for line, in_code in iter_markdown_lines(text):
        match = None if in_code or "#" not in line else HEADING_RE.match(line)
        if match is None or not match.group(2).strip():
            lines.append(line)
            continue
        close()
        level, name = len(match.group(1)), match.group(2).strip()
        headings.append(name)
        if level == 1 and (name.casefold() == folded_title or len(headings) == 1):
            stack.clear()  # the document's title (or its leading H1): not part of any heading path
        else:
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, name))
        path = tuple(name for _, name in stack)
        heading = line.strip()
    close()
    return sections, headings


def _merge_small(sections: list[_Section], chunk_tokens: int) -> list[list[_Section]]:
    """Group runs of small sections that are siblings or children of the run's first."""
    small = max(chunk_tokens // 4, 1)
    groups: list[list[_Section]] = []
    total = 0
    for section in sections:
        cost = section.tokens + count_tokens(section.heading)
        if groups and section.tokens < small:
            first = groups[-1][0]
            related = section.path[:-1] == first.path[:-1] or section.path[: len(first.path)] == first.path
            if first.tokens < small and related and total + cost <= chunk_tokens:
                groups[-1].append(section)
                total += cost
                continue
        groups.append([section])
        total = cost
    return groups


def _render_group(group: list[_Section]) -> tuple[tuple[str, ...], str, int]:
    if len(group) == 1:
        return group[0].path, group[0].body, group[0].tokens
    path = group[0].path
    for section in group[1:]:
        common = 0
        while common < min(len(path), len(section.path)) and path[common] == section.path[common]:
            common += 1
        path = path[:common]
    parts = [s.body if s.path == path else f"{s.heading}\n{s.body}" for s in group]
    text = "\n\n".join(parts)
    return path, text, count_tokens(text)


# -- splitting one long section --------------------------------------------------------------


def _blocks(text: str) -> list[tuple[str, bool]]:
    """Blank-line separated blocks as ``(text, is_lines)``; fenced code stays one block."""
    blocks: list[tuple[str, bool]] = []
    current: list[str] = []
    code = False

    def close() -> None:
        if any(line.strip() for line in current):
            body = "\n".join(current).strip("\n")
            blocks.append((body, code or any(_LINE_BLOCK_RE.match(line) for line in current)))
        current.clear()

    for line, in_code in iter_markdown_lines(text):
        if in_code and not code:
            close()
            code = True
        elif not in_code and code:
            close()
            code = False
        if not in_code and not line.strip():
            close()
        else:
            current.append(line)
    close()
    return blocks


def _windows(text: str, size: int) -> list[str]:
    """Cut ``text`` at spaces into pieces of at most ``size`` tokens; a huge "word" is cut too."""
    out: list[str] = []
    words: list[str] = []
    raw = 0
    per_piece = max(size * 10 // 13, 1)
    for long_word in text.split():
        if _scale(_raw_count(long_word)) <= size:
            parts = [long_word]
        else:  # e.g. a minified URL: cut between its tokens (a word has no spaces to lose)
            tokens = _TOKEN_RE.findall(long_word)
            parts = ["".join(tokens[i : i + per_piece]) for i in range(0, len(tokens), per_piece)]
        for word in parts:
            n = _raw_count(word)
            if words and _scale(raw + n) > size:
                out.append(" ".join(words))
                words, raw = [], 0
            words.append(word)
            raw += n
    if words:
        out.append(" ".join(words))
    return out


def _units(text: str, chunk_tokens: int, overlap: int) -> tuple[list[_Unit], list[int]]:
    """Sentences (prose) or lines (lists, tables, code), and each block's token count."""
    units: list[_Unit] = []
    block_tokens: list[int] = []
    window = overlap if overlap > 0 else chunk_tokens
    for index, (block, is_lines) in enumerate(_blocks(text)):
        if is_lines:
            pieces, sep = [line for line in block.split("\n") if line.strip()], "\n"
        else:
            joined = " ".join(line.strip() for line in block.split("\n") if line.strip())
            pieces, sep = split_prose(joined), " "
        total = 0
        for piece in pieces:
            tokens = count_tokens(piece)
            if tokens <= chunk_tokens:
                units.append(_Unit(piece, tokens, index, sep))
            else:
                units.extend(_Unit(w, count_tokens(w), index, " ") for w in _windows(piece, window))
            total += tokens
        block_tokens.append(total)
    return units, block_tokens


def _render(piece: list[_Unit]) -> str:
    parts = [piece[0].text]
    for prev, unit in pairwise(piece):
        parts.append(("\n\n" if unit.block != prev.block else unit.sep) + unit.text)
    return "".join(parts)


def _tail(piece: list[_Unit], overlap: int) -> list[_Unit]:
    """The end of ``piece`` worth about ``overlap`` tokens, to start the next piece with."""
    tail: list[_Unit] = []
    budget = overlap
    for unit in reversed(piece[1:]):
        if unit.tokens > budget:
            break
        tail.insert(0, unit)
        budget -= unit.tokens
    if not tail and overlap > 0 and piece[-1].sep == " ":  # no whole sentence fits: its last words
        words = piece[-1].text.split()
        kept: list[str] = []
        raw = 0
        for word in reversed(words[1:]):
            n = _raw_count(word)
            if _scale(raw + n) > overlap:
                break
            kept.insert(0, word)
            raw += n
        if kept:
            tail.append(_Unit(" ".join(kept), _scale(raw), piece[-1].block, " "))
    return tail


def _split(text: str, chunk_tokens: int, overlap: int) -> list[str]:
    units, block_tokens = _units(text, chunk_tokens, overlap)
    out: list[str] = []
    piece: list[_Unit] = []
    fresh = 0  # units in ``piece`` that are not overlap from the previous piece
    size = 0
    for unit in units:
        starts_block = not piece or piece[-1].block != unit.block
        full = size + unit.tokens > chunk_tokens
        # prefer to cut between paragraphs once the piece is half full
        early = starts_block and size >= chunk_tokens // 2 and size + block_tokens[unit.block] > chunk_tokens
        if piece and fresh and (full or early):
            out.append(_render(piece))
            piece = _tail(piece, overlap)
            while piece and sum(u.tokens for u in piece) + unit.tokens > chunk_tokens:
                piece.pop(0)
            size = sum(u.tokens for u in piece)
            fresh = 0
        piece.append(unit)
        size += unit.tokens
        fresh += 1
    if piece and fresh:
        out.append(_render(piece))
    return [p for p in (p.strip() for p in out) if _WORD_RE.search(p)]
