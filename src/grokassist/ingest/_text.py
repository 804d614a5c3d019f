"""Small text helpers shared by the loaders and the chunker."""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["HEADING_RE", "first_h1", "humanise", "iter_markdown_lines", "normalise_newlines"]

#: An ATX heading line: ``## Reset the router ##`` (closing hashes are dropped).
HEADING_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def normalise_newlines(text: str) -> str:
    """Turn ``\\r\\n`` and ``\\r`` line ends into ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def iter_markdown_lines(text: str) -> Iterator[tuple[str, bool]]:
    """Yield ``(line, in_code)``: whether each line is part of a fenced code block."""
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE_RE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)
                yield line, True
            else:
                yield line, False
        else:
            yield line, True
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None


def first_h1(text: str) -> str:
    """The text of the first ``# `` heading outside code blocks, or ``""``."""
    if "#" not in text:
        return ""
    for line, in_code in iter_markdown_lines(text):
        if in_code:
            continue
        match = HEADING_RE.match(line)
        if match and len(match.group(1)) == 1 and match.group(2).strip():
            return match.group(2).strip()
    return ""


def humanise(stem: str) -> str:
    """``"router-reset_guide"`` -> ``"Router reset guide"``."""
    words = re.sub(r"[-_.]+", " ", stem).split()
    if not words:
        return stem
    text = " ".join(words)
    return text[0].upper() + text[1:]
