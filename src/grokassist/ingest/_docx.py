"""Word (.docx) to markdown-ish text with python-docx: headings, lists and tables kept,
hidden runs (Word's "hidden" font effect, white or tiny text) left out and counted.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath
from typing import Any

from ._parsed import Parsed, Rejected, parse_datetime
from ._text import first_h1, humanise

__all__ = ["parse_docx"]

_HEADING_STYLE = re.compile(r"^heading (\d)$", re.IGNORECASE)
#: Runs smaller than this (in points) cannot be read.
_MIN_POINTS = 2.0


def parse_docx(raw: bytes, path: PurePath) -> Parsed:
    """A Word document: its paragraphs and tables in order, title and dates from its properties."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Rejected(f"not a readable Word (.docx) file ({exc})") from exc
    hidden: dict[str, int] = {}
    blocks: list[str] = []
    numbers: dict[int, int] = {}
    for item in document.iter_inner_content():
        if hasattr(item, "rows"):
            rows = [" | ".join(" ".join(cell.text.split()) for cell in row.cells) for row in item.rows]
            table = "\n".join(row for row in rows if row.strip(" |"))
            if table:
                blocks.append(table)
            continue
        text = _paragraph_text(item, hidden)
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        heading = _HEADING_STYLE.match(style)
        if style.lower() == "title":
            blocks.append(f"# {text}")
        elif heading:
            blocks.append("#" * min(6, int(heading.group(1))) + " " + text)
        elif style.lower().startswith("list number"):
            level = _level(style)
            numbers[level] = numbers.get(level, 0) + 1
            _append_item(blocks, f"{'  ' * level}{numbers[level]}. {text}")
            continue
        elif style.lower().startswith("list"):
            _append_item(blocks, f"{'  ' * _level(style)}- {text}")
            continue
        else:
            blocks.append(text)
        numbers.clear()
    props = document.core_properties
    parsed = Parsed(text="\n\n".join(blocks), hidden=hidden)
    parsed.title = (props.title or "").strip() or first_h1(parsed.text) or humanise(path.stem)
    parsed.updated = parse_datetime(props.modified)
    for key, value in (("subject", props.subject), ("keywords", props.keywords), ("locale", props.language)):
        if value and value.strip():
            parsed.metadata[key] = value.strip()
    return parsed


def _paragraph_text(paragraph: Any, hidden: dict[str, int]) -> str:
    parts: list[str] = []
    for run in paragraph.runs:
        text = run.text
        if not text:
            continue
        reason = _run_hidden(run)
        if reason is not None:
            hidden[reason] = hidden.get(reason, 0) + len(" ".join(text.split()))
            continue
        parts.append(text)
    return " ".join("".join(parts).split())


def _run_hidden(run: Any) -> str | None:
    font = run.font
    if font.hidden:
        return "hidden text (Word)"
    if font.size is not None and font.size.pt < _MIN_POINTS:
        return "tiny font"
    rgb = font.color.rgb if font.color is not None and font.color.type is not None else None
    if rgb is not None and str(rgb).upper() == "FFFFFF" and not _has_shading(run):
        return "text colour matches the background"
    return None


def _has_shading(run: Any) -> bool:
    """Whether the run has a highlight or shading (white text on a coloured band is visible)."""
    if run.font.highlight_color is not None:
        return True
    props = run._element.rPr
    return (
        props is not None
        and props.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}shd") is not None
    )


def _level(style: str) -> int:
    match = re.search(r"(\d)\s*$", style)
    return max(0, int(match.group(1)) - 1) if match else 0


def _append_item(blocks: list[str], line: str) -> None:
    """List items of one list share a block."""
    if blocks and re.match(r"^\s*(-|\d+\.) ", blocks[-1].split("\n")[-1]):
        blocks[-1] += "\n" + line
    else:
        blocks.append(line)
