"""What every parser shares: the :class:`Parsed` result, :class:`Rejected`, metadata
sorting and text decoding with encoding detection.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ..types import MetadataValue

__all__ = ["Parsed", "Rejected", "decode_text", "parse_datetime", "split_fields"]

#: Front matter / meta keys that give the document's ``updated`` time, by preference.
_UPDATED_KEYS = ("updated", "last_updated", "last_modified", "modified", "date")


class Rejected(Exception):
    """The file cannot be ingested; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(slots=True)
class Parsed:
    """What a parser found in one file.

    ``hidden`` counts the characters of text a reader would not see (an HTML
    element with ``display:none``, white text on white, a comment...) that were
    left out of ``text``, by reason. ``links`` are the page's link targets (HTML
    only; the web crawler follows them) and ``index``/``follow`` its robots
    directives.
    """

    text: str
    title: str = ""
    source: str = ""
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    updated: datetime | None = None
    hidden: dict[str, int] = field(default_factory=dict)
    #: the hidden text itself (never indexed): read only by the check for planted instructions
    hidden_text: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    index: bool = True
    follow: bool = True

    @property
    def hidden_chars(self) -> int:
        """Characters of hidden text left out."""
        return sum(self.hidden.values())


def parse_datetime(value: object) -> datetime | None:
    """A timezone-aware UTC datetime from a date, datetime or ISO string; else ``None``.

    Naive values are taken to be UTC.
    """
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        try:
            result = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if result.tzinfo is None:
        return result.replace(tzinfo=UTC)
    return result.astimezone(UTC)


def _scalar(value: object) -> MetadataValue | None:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        items = [_scalar(item) for item in value]
        return ", ".join(str(item) for item in items if item is not None and item != "")
    return None


def split_fields(raw: Mapping[Any, object]) -> Parsed:
    """Sort front matter / meta values into title, source, updated and metadata."""
    parsed = Parsed(text="")
    for key, value in raw.items():
        name = str(key).strip()
        if not name:
            continue
        scalar = _scalar(value)
        if scalar is None:
            continue
        lower = name.lower()
        if lower == "title":
            parsed.title = str(scalar).strip()
        elif lower in ("source", "url"):
            if lower == "source" or not parsed.source:
                parsed.source = str(scalar).strip()
        else:
            parsed.metadata[name] = scalar
    lowered = {str(k).strip().lower(): v for k, v in raw.items()}
    for key in _UPDATED_KEYS:
        if key in lowered:
            parsed.updated = parse_datetime(lowered[key])
            if parsed.updated is not None:
                break
    return parsed


# -- decoding ---------------------------------------------------------------------------------

#: Largest chaos (charset-normalizer's "mess" ratio) at which Windows-1252 is taken
#: without asking for the best guess: correct French, German or curly-quoted English
#: text scores 0 to 0.07, Cyrillic or Polish text read as Windows-1252 about 1.
_CP1252_MAX_CHAOS = 0.15


def decode_text(raw: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode bytes of text; returns ``(text, encoding)``.

    In order: a byte-order mark, strict UTF-8, the ``declared`` encoding (an HTML
    ``<meta charset>`` or an HTTP header), Windows-1252 when it reads cleanly (what
    "Latin-1" means in practice), then charset-normalizer's best guess. Data with
    NUL bytes, or that no encoding reads without chaos, is refused as binary.
    """
    if raw.startswith(codecs.BOM_UTF8):
        return _check_binary(_strict(raw, "utf-8-sig")), "utf-8"
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _check_binary(_strict(raw, "utf-32")), "utf-32"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _check_binary(_strict(raw, "utf-16")), "utf-16"
    try:
        return _check_binary(raw.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            name = codecs.lookup(declared).name
            return _check_binary(raw.decode(name)), name
        except (LookupError, UnicodeDecodeError):
            pass
    if b"\x00" in raw[:65536]:
        raise Rejected("looks like a binary file, not text")
    from charset_normalizer import from_bytes

    match = from_bytes(raw, cp_isolation=["cp1252"]).best()
    if match is None or match.chaos > _CP1252_MAX_CHAOS:
        match = from_bytes(raw, cp_exclusion=["utf_16", "utf_16_le", "utf_16_be", "utf_32"]).best()
    if match is None:
        raise Rejected("looks like a binary file, not text (no character encoding reads it cleanly)")
    return _check_binary(str(match)), codecs.lookup(match.encoding).name


def _strict(raw: bytes, encoding: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise Rejected(f"not valid {encoding.upper()} text ({exc.reason} at byte {exc.start})") from exc


def _check_binary(text: str) -> str:
    if "\x00" in text:
        raise Rejected("looks like a binary file, not text")
    return text
