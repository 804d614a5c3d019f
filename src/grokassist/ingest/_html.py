"""HTML to markdown-ish text: headings, lists, tables and code blocks kept, page chrome
(navigation, footers, scripts) and text hidden from readers left out.

Every walk over the tree is iterative, so a page nested a hundred thousand levels
deep parses like any other.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from ._parsed import Parsed, decode_text, split_fields
from ._text import first_h1, humanise
from ._visibility import strip_hidden

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag
    from bs4.element import PageElement

__all__ = ["parse_html", "parse_html_text"]

_DROP_TAGS = ("script", "style", "nav", "footer", "noscript", "svg", "iframe", "head", "object", "embed")
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


def parse_html(raw: bytes, path: PurePath, charset: str | None = None) -> Parsed:
    """HTML bytes: the encoding from ``charset`` (an HTTP header), else ``<meta charset>``, else detected."""
    declared = charset
    if declared is None:
        match = _CHARSET_RE.search(raw[:4096])
        declared = match.group(1).decode("ascii") if match else None
    text, encoding = decode_text(raw, declared)
    parsed = parse_html_text(text, path)
    parsed.metadata["encoding"] = encoding
    return parsed


def parse_html_text(html: str, path: PurePath) -> Parsed:
    """HTML: title, ``<meta name>`` metadata, robots directives, links and body text."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(html, "html.parser")
    parsed = _head(soup)
    title_tag = soup.find("title")
    page_title = _collapse(title_tag.get_text()) if isinstance(title_tag, Tag) else ""
    parsed.hidden = strip_hidden(soup, parsed.hidden_text)
    parsed.links = _links(soup)
    for tag in soup.find_all(("noscript", "template")):  # never shown where scripts run
        parsed.hidden_text.append(tag.get_text(" "))
    for tag in soup.find_all(True, alt=True):  # read by screen readers, but not as the page's words
        parsed.hidden_text.append(str(tag.get("alt")))
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    writer = _HtmlWriter()
    body = soup.find("body")
    writer.walk(body if isinstance(body, Tag) else soup)
    writer.flush()
    parsed.text = "\n\n".join(writer.blocks)
    parsed.title = parsed.title or first_h1(parsed.text) or page_title or humanise(path.stem)
    return parsed


def _head(soup: BeautifulSoup) -> Parsed:
    """Metadata from ``<meta>``, ``<html lang>`` and ``<link rel=canonical>``."""
    from bs4 import Tag

    meta: dict[str, str] = {}
    robots = ""
    for tag in soup.find_all("meta"):
        name, content = tag.get("name"), tag.get("content")
        if not isinstance(name, str) or not isinstance(content, str):
            continue
        key = name.strip().lower()
        if key in ("robots", "grokassist"):
            robots += "," + content.lower()
        if key and key not in _IGNORED_META and not key.startswith(_IGNORED_META_PREFIXES):
            meta.setdefault(key, content.strip())
    parsed = split_fields(meta)
    directives = {d.strip() for d in robots.split(",")}
    parsed.index = not directives & {"noindex", "none"}
    parsed.follow = not directives & {"nofollow", "none"}
    html = soup.find("html")
    lang = html.get("lang") if isinstance(html, Tag) else None
    if isinstance(lang, str) and lang.strip() and "locale" not in parsed.metadata:
        parsed.metadata["locale"] = lang.strip()
    if not parsed.source:
        canonical = soup.find("link", rel="canonical")
        href = canonical.get("href") if isinstance(canonical, Tag) else None
        if isinstance(href, str) and href.strip():
            parsed.source = href.strip()
    return parsed


def _links(soup: BeautifulSoup) -> list[str]:
    """Targets of the page's visible links (``rel=nofollow`` ones left out), resolved against ``<base>``."""
    from bs4 import Tag

    base_tag = soup.find("base", href=True)
    base = base_tag.get("href") if isinstance(base_tag, Tag) else None
    links: list[str] = []
    for tag in soup.find_all(["a", "area"], href=True):
        href = tag.get("href")
        rel = tag.get("rel")
        if not isinstance(href, str) or not href.strip():
            continue
        if isinstance(rel, list) and "nofollow" in (r.lower() for r in rel):
            continue
        href = href.strip()
        links.append(urljoin(base, href) if isinstance(base, str) and base.strip() else href)
    return links


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

    def walk(self, root: Tag) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        # (node, closing): a block element is visited twice, to flush before and after it
        stack: list[tuple[PageElement, bool]] = [(c, False) for c in reversed(root.contents)]
        while stack:
            node, closing = stack.pop()
            if closing:
                self.flush()
                continue
            if isinstance(node, NavigableString):
                if not isinstance(node, PreformattedString):  # comments, doctype, CDATA
                    self._inline.append(_SPACE_RE.sub(" ", str(node)))
                continue
            if not isinstance(node, Tag):
                continue
            name = node.name
            if name in _HEADINGS:
                heading = _collapse(node.get_text())
                if heading:
                    self.block("#" * _HEADINGS[name] + " " + heading)
            elif name in ("ul", "ol"):
                self.block("\n".join(_list_lines(node)))
            elif name == "table":
                self.block(_table(node))
            elif name == "pre":
                code = node.get_text().strip("\n")
                if code.strip():
                    self.block(f"```\n{code}\n```")
            elif name == "br":
                self._inline.append("\n")
            elif name in _INLINE_TAGS:
                stack.extend((c, False) for c in reversed(node.contents))
            else:  # p, div, section, blockquote, li outside a list, ...: a block of its own
                self.flush()
                stack.append((node, True))
                stack.extend((c, False) for c in reversed(node.contents))


def _list_lines(root: Tag) -> list[str]:
    """A (nested) list as ``-`` / ``1.`` lines indented two spaces per level."""

    out: list[str] = []
    stack: list[tuple[Tag, int] | str] = [(root, 0)]  # lists still to expand, or finished lines
    while stack:
        entry = stack.pop()
        if isinstance(entry, str):
            out.append(entry)
            continue
        node, depth = entry
        work: list[tuple[Tag, int] | str] = []
        for number, item in enumerate(node.find_all("li", recursive=False), start=1):
            text, nested = _item_text(item)
            marker = f"{number}." if node.name == "ol" else "-"
            if text:
                work.append(f"{'  ' * depth}{marker} {text}")
            work.extend((sub, depth + 1) for sub in nested)
        stack.extend(reversed(work))
    return out


def _item_text(item: Tag) -> tuple[str, list[Tag]]:
    """A list item's own text (blocks such as ``p``, ``div``, ``br`` spaced) and the lists
    nested in it, at any depth, which become its sub-items."""
    from bs4.element import NavigableString, PreformattedString, Tag

    parts: list[str] = []
    nested: list[Tag] = []
    stack: list[PageElement] = list(reversed(item.contents))
    while stack:
        node = stack.pop()
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):
                parts.append(str(node))
        elif isinstance(node, Tag):
            if node.name in ("ul", "ol"):
                nested.append(node)
                continue
            if node.name in ("p", "div", "br"):
                parts.append(" ")
            stack.extend(reversed(node.contents))
    return _collapse("".join(parts)), nested


def _table(node: Tag) -> str:
    rows: list[str] = []
    for row in node.find_all("tr"):
        cells = [_collapse(cell.get_text(" ")) for cell in row.find_all(["th", "td"])]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
