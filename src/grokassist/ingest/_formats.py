"""Parsers from raw file bytes to markdown-ish text plus metadata, one per format.

Each parser raises :class:`Rejected` with a reason a person can act on; the
loader turns that into a :class:`~grokassist.errors.DocumentError`.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..types import MetadataValue
from ._text import first_h1, humanise, normalise_newlines

if TYPE_CHECKING:
    from bs4 import Tag

__all__ = ["FORMATS", "Parsed", "Rejected", "parse_datetime"]

#: Front matter / meta keys that give the document's ``updated`` time, by preference.
_UPDATED_KEYS = ("updated", "last_updated", "last_modified", "modified", "date")
#: Keys that become Document fields rather than metadata.
_FIELD_KEYS = frozenset({"title", "source", "url"})


class Rejected(Exception):
    """The file cannot be ingested; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(slots=True)
class Parsed:
    """What a parser found in one file."""

    text: str
    title: str = ""
    source: str = ""
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    updated: datetime | None = None


# -- shared helpers ---------------------------------------------------------------------------


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


def _split_fields(raw: Mapping[Any, object]) -> Parsed:
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


def _decode(raw: bytes, declared: str | None = None) -> str:
    """Decode text strictly: UTF-8 (with or without BOM), UTF-16 with a BOM, or ``declared``."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise Rejected(f"not valid UTF-16 text ({exc.reason} at byte {exc.start})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if declared:
            try:
                text = raw.decode(declared)
            except (LookupError, UnicodeDecodeError):
                pass
            else:
                return _check_binary(text)
        if b"\x00" in raw[:8192]:
            raise Rejected("looks like a binary file, not text") from exc
        raise Rejected(
            f"not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from exc
    return _check_binary(text)


def _check_binary(text: str) -> str:
    if "\x00" in text:
        raise Rejected("looks like a binary file, not text (contains NUL bytes)")
    return text


# -- markdown and plain text ------------------------------------------------------------------


def parse_markdown(raw: bytes, path: Path) -> Parsed:
    """Markdown with optional YAML front matter."""
    text = normalise_newlines(_decode(raw))
    parsed = Parsed(text="")
    if text.startswith("---"):
        parsed, text = _front_matter(text)
    parsed.text = text.strip("\n")
    parsed.title = parsed.title or first_h1(text) or humanise(path.stem)
    return parsed


def _front_matter(text: str) -> tuple[Parsed, str]:
    import yaml
    from frontmatter.default_handlers import YAMLHandler

    handler = YAMLHandler()
    if not handler.detect(text):
        return Parsed(text=""), text
    try:
        head, body = handler.split(text)
    except ValueError:  # an opening '---' and no closing one: a horizontal rule, not front matter
        return Parsed(text=""), text
    try:
        data = handler.load(head)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 2}" if mark is not None else ""
        raise Rejected(f"invalid YAML front matter{where}: {problem}") from exc
    if data is None:
        return Parsed(text=""), body
    if not isinstance(data, dict):
        raise Rejected(f"front matter must be a YAML mapping of keys to values, not a {type(data).__name__}")
    return _split_fields(data), body


def parse_text(raw: bytes, path: Path) -> Parsed:
    """Plain text; a ``# `` first heading, if any, is the title."""
    text = normalise_newlines(_decode(raw)).strip("\n")
    return Parsed(text=text, title=first_h1(text) or humanise(path.stem))


# -- HTML -----------------------------------------------------------------------------------

_DROP_TAGS = ("script", "style", "nav", "footer", "noscript", "template", "svg", "iframe", "head")
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_INLINE_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "bdi",
        "bdo",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "mark",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
    }
)
_IGNORED_META = frozenset(
    {
        "viewport",
        "generator",
        "robots",
        "googlebot",
        "referrer",
        "theme-color",
        "format-detection",
        "color-scheme",
        "google-site-verification",
        "csrf-token",
        "csrf-param",
    }
)
_IGNORED_META_PREFIXES = ("twitter:", "og:", "msapplication-", "apple-", "fb:")
_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACE_RE = re.compile(r"[ \t\f\v\r\n\u00a0]+")


def _collapse(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


class _HtmlWriter:
    """Turns an HTML tree into markdown-ish blocks separated by blank lines."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self._inline: list[str] = []

    def flush(self) -> None:
        if not self._inline:
            return
        lines = (_collapse(line) for line in "".join(self._inline).split("\n"))
        block = "\n".join(line for line in lines if line)
        self._inline.clear()
        if block:
            self.blocks.append(block)

    def block(self, text: str) -> None:
        self.flush()
        if text.strip():
            self.blocks.append(text)

    def walk(self, node: Tag) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        for child in node.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, PreformattedString):  # comments, doctype, CDATA
                    self._inline.append(_SPACE_RE.sub(" ", str(child)))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADINGS:
                heading = _collapse(child.get_text())
                if heading:
                    self.block("#" * _HEADINGS[name] + " " + heading)
            elif name in ("ul", "ol"):
                lines: list[str] = []
                _list_lines(child, 0, lines)
                self.block("\n".join(lines))
            elif name == "table":
                self.block(_table(child))
            elif name == "pre":
                code = child.get_text().strip("\n")
                if code.strip():
                    self.block(f"```\n{code}\n```")
            elif name == "br":
                self._inline.append("\n")
            elif name in _INLINE_TAGS:
                self.walk(child)
            else:  # p, div, section, blockquote, li outside a list, ...: a block of its own
                self.flush()
                self.walk(child)
                self.flush()


def _list_lines(node: Tag, depth: int, out: list[str]) -> None:
    from bs4 import Tag

    for number, item in enumerate(node.find_all("li", recursive=False), start=1):
        nested = [c for c in item.children if isinstance(c, Tag) and c.name in ("ul", "ol")]
        for sub in nested:
            sub.extract()
        text = _collapse(item.get_text(" ") if item.find(["p", "div", "br"]) else item.get_text())
        marker = f"{number}." if node.name == "ol" else "-"
        if text:
            out.append(f"{'  ' * depth}{marker} {text}")
        for sub in nested:
            _list_lines(sub, depth + 1, out)


def _table(node: Tag) -> str:
    rows: list[str] = []
    for row in node.find_all("tr"):
        cells = [_collapse(cell.get_text(" ")) for cell in row.find_all(["th", "td"])]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def parse_html(raw: bytes, path: Path) -> Parsed:
    """HTML: title, ``<meta name>`` metadata, and body text as markdown-ish blocks."""
    from bs4 import BeautifulSoup, Tag

    match = _CHARSET_RE.search(raw[:4096])
    declared = match.group(1).decode("ascii") if match else None
    soup = BeautifulSoup(_decode(raw, declared), "html.parser")

    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        name, content = tag.get("name"), tag.get("content")
        if not isinstance(name, str) or not isinstance(content, str):
            continue
        key = name.strip().lower()
        if key and key not in _IGNORED_META and not key.startswith(_IGNORED_META_PREFIXES):
            meta.setdefault(key, content.strip())
    parsed = _split_fields(meta)
    html = soup.find("html")
    lang = html.get("lang") if isinstance(html, Tag) else None
    if isinstance(lang, str) and lang.strip() and "locale" not in parsed.metadata:
        parsed.metadata["locale"] = lang.strip()
    if not parsed.source:
        canonical = soup.find("link", rel="canonical")
        href = canonical.get("href") if isinstance(canonical, Tag) else None
        if isinstance(href, str) and href.strip():
            parsed.source = href.strip()
    title_tag = soup.find("title")
    page_title = _collapse(title_tag.get_text()) if isinstance(title_tag, Tag) else ""

    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    writer = _HtmlWriter()
    body = soup.find("body")
    writer.walk(body if isinstance(body, Tag) else soup)
    writer.flush()
    parsed.text = "\n\n".join(writer.blocks)
    parsed.title = parsed.title or first_h1(parsed.text) or page_title or humanise(path.stem)
    return parsed


# -- PDF ------------------------------------------------------------------------------------

_SENTENCE_END = (".", "!", "?", ":", ";", ",")
_BULLETS = ("-", "*", "•", "–", "·", "▪", "○")


def parse_pdf(raw: bytes, path: Path) -> Parsed:
    """PDF via pypdf: text per page, title from /Title or the first line, simple headings."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:
                unlocked = reader.decrypt("")
            except PyPdfError as exc:  # e.g. AES without the cryptography package
                raise Rejected(f"PDF is encrypted and cannot be opened ({exc})") from exc
            if not unlocked:
                raise Rejected("PDF is encrypted with a password; save an unprotected copy to ingest it")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        meta_title = (info.title or "").strip() if info is not None else ""
    except PyPdfError as exc:
        raise Rejected(f"not a readable PDF ({exc})") from exc

    lines = [line.rstrip() for page in pages for line in [*normalise_newlines(page).split("\n"), ""]]
    first = next((line.strip() for line in lines if line.strip()), "")
    title = meta_title or (first if len(first) <= 120 else "") or humanise(path.stem)
    text = _pdf_markdown(lines, title)
    return Parsed(text=text, title=title, metadata={"pages": len(pages)})


def _looks_like_heading(line: str) -> bool:
    words = line.split()
    if not 1 <= len(words) <= 8 or len(line) > 60 or line.endswith(_SENTENCE_END):
        return False
    if line.startswith(_BULLETS) or not line[0].isupper():
        return False
    significant = [w for w in words if len(w) > 3 and w[0].isalpha()]
    return all(w[0].isupper() for w in significant)


def _is_body(line: str) -> bool:
    return len(line.split()) >= 6 or line.rstrip().endswith((".", "!", "?"))


def _pdf_markdown(lines: list[str], title: str) -> str:
    """Join PDF lines, marking the title line ``#`` and likely headings ``##``."""
    out: list[str] = []
    seen_title = False
    previous = ""  # the previous non-empty line, "" at a page or paragraph break
    for index, raw_line in enumerate(lines):
        line = raw_line.strip()
        if not line:
            if out and out[-1]:
                out.append("")
            previous = ""
            continue
        if not seen_title and not out:
            seen_title = True
            if line.casefold() == title.casefold():
                out.extend([f"# {line}", ""])
                previous = ""
                continue
        following = next((n.strip() for n in lines[index + 1 : index + 3] if n.strip()), "")
        after_break = (
            not previous
            or previous.endswith((".", "!", "?", ":"))
            or previous.startswith("#")
            or _looks_like_heading(previous)  # a run of headings: chapter, then section
        )
        if after_break and _looks_like_heading(line) and following and _is_body(following):
            if out and out[-1]:
                out.append("")
            out.extend([f"## {line}", ""])
            previous = "#"
            continue
        out.append(line)
        previous = line
    return "\n".join(out).strip("\n")


#: Format name and parser by file extension.
FORMATS: dict[str, tuple[str, Callable[[bytes, Path], Parsed]]] = {
    ".md": ("md", parse_markdown),
    ".markdown": ("md", parse_markdown),
    ".txt": ("txt", parse_text),
    ".text": ("txt", parse_text),
    ".html": ("html", parse_html),
    ".htm": ("html", parse_html),
    ".xhtml": ("html", parse_html),
    ".pdf": ("pdf", parse_pdf),
}
