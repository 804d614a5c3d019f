"""Parsers from raw file bytes to markdown-ish text plus metadata, one per format.

Each parser raises :class:`Rejected` with a reason a person can act on; the
loader turns that into a :class:`~grokassist.errors.DocumentError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path, PurePath

from ._docx import parse_docx
from ._html import parse_html
from ._parsed import Parsed, Rejected, decode_text, parse_datetime, split_fields
from ._pdf import parse_pdf
from ._text import first_h1, humanise, iter_markdown_lines, normalise_newlines

__all__ = ["FORMATS", "Parsed", "Rejected", "parse_datetime"]

_COMMENT_RE = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)


# -- markdown and plain text ------------------------------------------------------------------


def parse_markdown(raw: bytes, path: PurePath) -> Parsed:
    """Markdown with optional YAML front matter."""
    decoded, encoding = decode_text(raw)
    text = normalise_newlines(decoded)
    parsed = Parsed(text="")
    if text.startswith("---"):
        parsed, text = _front_matter(text)
    text, hidden = _strip_comments(text, parsed.hidden_text)
    if hidden:
        parsed.hidden["HTML comment"] = hidden
    parsed.text = text.strip("\n")
    parsed.metadata["encoding"] = encoding
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
    return split_fields(data), body


def parse_text(raw: bytes, path: PurePath) -> Parsed:
    """Plain text; a ``# `` first heading, if any, is the title."""
    decoded, encoding = decode_text(raw)
    text = normalise_newlines(decoded).strip("\n")
    return Parsed(text=text, title=first_h1(text) or humanise(path.stem), metadata={"encoding": encoding})


def _strip_comments(text: str, texts: list[str] | None = None) -> tuple[str, int]:
    """Markdown without its HTML comments (which it does not render) outside code blocks.

    The comments' text is appended to ``texts`` when given.
    """
    if "<!--" not in text:
        return text, 0
    out: list[str] = []
    hidden = 0
    segment: list[str] = []
    in_code = False

    def close() -> None:
        nonlocal hidden
        chunk = "\n".join(segment)
        if not in_code:
            for match in _COMMENT_RE.finditer(chunk):
                hidden += len(" ".join(match.group(0)[4:].removesuffix("-->").split()))
                if texts is not None:
                    texts.append(match.group(0))
            chunk = _COMMENT_RE.sub("", chunk)
        out.append(chunk)
        segment.clear()

    for line, code in iter_markdown_lines(text):
        if code != in_code and segment:
            close()
        in_code = code
        segment.append(line)
    if segment:
        close()
    return "\n".join(out), hidden


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
    ".docx": ("docx", parse_docx),
}
