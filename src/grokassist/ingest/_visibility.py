"""Which parts of an HTML page a reader cannot see.

Text that a browser does not show (``display:none``, white text on a white page,
one-pixel fonts, boxes moved ten thousand pixels off screen, ``hidden`` and
``aria-hidden`` elements, ``<template>`` and comments) is a classic way to slip
instructions into a page that only a machine reads. :func:`strip_hidden` removes
it from a parsed tree before the text is taken, and counts what it removed.

It reads the inline ``style`` attributes, the page's own ``<style>`` rules (plain
selectors, matched with soupsieve; rules with pseudo-classes and at-rules such as
``@media print`` are ignored), the legacy ``<font color>`` and ``bgcolor``
attributes, and the utility classes of the common CSS frameworks (``hidden``,
``d-none``, ``sr-only``...) whose stylesheets live elsewhere. It cannot see
external stylesheets or scripts, so it errs on the side of keeping text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag
    from bs4.element import PageElement

__all__ = ["strip_hidden"]


class _Rgba(NamedTuple):
    red: float
    green: float
    blue: float
    alpha: float


_WHITE = _Rgba(1.0, 1.0, 1.0, 1.0)
_BLACK = _Rgba(0.0, 0.0, 0.0, 1.0)

#: Below this contrast ratio (WCAG: 1 is none, 21 black on white, 4.5 the minimum for
#: body text) text is taken to be invisible against its background: #eee on white is
#: 1.16, #ddd on white 1.36.
_MIN_CONTRAST = 1.2
#: Text with less opacity than this is invisible.
_MIN_ALPHA = 0.1
#: Text smaller than this many CSS pixels cannot be read.
_MIN_FONT_PX = 2.5
#: Positions at least this far off the page's top or left edge are off screen (the
#: usual tricks use -999px, -9999px or -10000px).
_OFFSCREEN_PX = 500.0
#: A box this small with its overflow hidden shows nothing.
_TINY_BOX_PX = 1.0

_PX_PER = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4, "q": 96 / 101.6}
_VIEWPORT_PX = {"vw": 1280 / 100, "vh": 800 / 100, "vmin": 800 / 100, "vmax": 1280 / 100}
_FONT_KEYWORDS = {
    "xx-small": 9.0,
    "x-small": 10.0,
    "small": 13.0,
    "medium": 16.0,
    "large": 18.0,
    "x-large": 24.0,
    "xx-large": 32.0,
    "xxx-large": 48.0,
}
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))([a-z%]*)$")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")

#: The properties that can hide text; rules without any of them are not matched.
_PROPERTIES = frozenset(
    {
        "display",
        "visibility",
        "opacity",
        "font-size",
        "font",
        "color",
        "background",
        "background-color",
        "background-image",
        "position",
        "left",
        "top",
        "right",
        "bottom",
        "margin-left",
        "margin-top",
        "text-indent",
        "transform",
        "clip",
        "clip-path",
        "width",
        "height",
        "max-width",
        "max-height",
        "overflow",
        "overflow-x",
        "overflow-y",
        "content-visibility",
    }
)

#: Utility classes that hide things in Tailwind, Bootstrap, Bulma, Foundation and
#: WordPress themes, whose stylesheets are not part of the page.
_HIDING_CLASSES = {
    "hidden": "display:none",
    "d-none": "display:none",
    "is-hidden": "display:none",
    "hide": "display:none",
    "invisible": "visibility:hidden",
    "is-invisible": "visibility:hidden",
    "sr-only": "off-screen",
    "visually-hidden": "off-screen",
    "screen-reader-text": "off-screen",
    "show-for-sr": "off-screen",
}
#: ``hidden md:block`` and ``d-none d-lg-block`` show the element on wider screens.
_SHOWN_ON_SOME_SCREENS = re.compile(
    r"^(?:(?:sm|md|lg|xl|2xl):(?:block|inline|inline-block|flex|inline-flex|grid|inline-grid|table|contents)"
    r"|d-(?:sm|md|lg|xl|xxl)-(?:block|inline|inline-block|flex|inline-flex|grid|table|table-cell))$"
)

Declarations = dict[str, tuple[str, bool]]  # property -> (value, !important)


@dataclass(frozen=True, slots=True)
class _Context:
    """What an element passes on to its children (the inherited properties)."""

    visible: bool = True  # the `visibility` property
    font_px: float = 16.0
    color: _Rgba | None = _BLACK  # None: unknown
    background: _Rgba | None = _WHITE  # None: unknown (an image)


def strip_hidden(soup: BeautifulSoup, texts: list[str] | None = None) -> dict[str, int]:
    """Remove what a reader of the rendered page would not see; returns characters removed, by reason.

    The removed text is appended to ``texts`` when given (for the injection check, not the index).
    """
    from bs4 import Tag
    from bs4.element import Comment, NavigableString

    sheet = _stylesheet_declarations(soup)
    hidden: dict[str, int] = {}
    doomed: list[PageElement] = []

    def count(reason: str, chars: int) -> None:
        if chars:
            hidden[reason] = hidden.get(reason, 0) + chars

    root = soup.find("body")
    start = root if isinstance(root, Tag) else soup
    stack: list[tuple[PageElement, _Context]] = [(start, _Context())]
    while stack:
        node, ctx = stack.pop()
        if isinstance(node, Comment):
            count("HTML comment", len(_collapse(str(node))))
            doomed.append(node)
            if texts is not None:
                texts.append(str(node))
            continue
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:
                reason = _text_reason(ctx)
                if reason is not None:
                    count(reason, len(_collapse(str(node))))
                    doomed.append(node)
                    if texts is not None:
                        texts.append(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        decls = _element_declarations(node, sheet)
        reason = None if node.name == "[document]" else _subtree_reason(node, decls)
        if reason is not None:
            count(reason, _text_length(node))
            doomed.append(node)
            if texts is not None:
                texts.append(node.get_text(" "))
            continue
        inner = _inherit(ctx, decls)
        stack.extend((child, inner) for child in reversed(node.contents))
    for node in doomed:
        node.extract()
    return hidden


# -- stylesheets ------------------------------------------------------------------------------


def _parse_declarations(text: str) -> Declarations:
    import tinycss2

    result: Declarations = {}
    for item in tinycss2.parse_blocks_contents(text, skip_whitespace=True, skip_comments=True):
        if item.type != "declaration":
            continue
        name = item.lower_name
        if name not in _PROPERTIES:
            continue
        value = " ".join(tinycss2.serialize(item.value).split()).lower()
        previous = result.get(name)
        if previous is not None and previous[1] and not item.important:
            continue  # an earlier !important wins
        result[name] = (value, item.important)
    return result


def _stylesheet_declarations(soup: BeautifulSoup) -> dict[int, Declarations]:
    """Declarations of the page's ``<style>`` rules, by element (``id()``), in source order."""
    import tinycss2

    by_element: dict[int, Declarations] = {}
    for style in soup.find_all("style"):
        media = style.get("media")
        if isinstance(media, str) and media.strip() and not re.search(r"\b(all|screen)\b", media, re.I):
            continue
        rules = tinycss2.parse_stylesheet(style.get_text(), skip_whitespace=True, skip_comments=True)
        for rule in rules:
            if rule.type != "qualified-rule":
                continue  # @media, @supports, @font-face...: not worth the guesswork
            selector = tinycss2.serialize(rule.prelude).strip()
            if not selector or ":" in selector:
                continue  # :hover, ::before... do not hide the element's own text
            decls = _parse_declarations(tinycss2.serialize(rule.content))
            if not decls:
                continue
            try:
                matched = soup.select(selector)
            except Exception:  # a selector soupsieve does not support
                continue
            for element in matched:
                target = by_element.setdefault(id(element), {})
                for name, (value, important) in decls.items():
                    previous = target.get(name)
                    if previous is None or important or not previous[1]:
                        target[name] = (value, important)
    return by_element


def _element_declarations(tag: Tag, sheet: dict[int, Declarations]) -> Declarations:
    decls = dict(sheet.get(id(tag), {}))
    style = tag.get("style")
    if isinstance(style, str) and style.strip():
        for name, (value, important) in _parse_declarations(style).items():
            previous = decls.get(name)
            if previous is None or important or not previous[1]:
                decls[name] = (value, important)
    if tag.name == "font":
        color = tag.get("color")
        if isinstance(color, str) and "color" not in decls:
            decls["color"] = (color.strip().lower(), False)
    bgcolor = tag.get("bgcolor")
    if isinstance(bgcolor, str) and "background-color" not in decls and "background" not in decls:
        decls["background-color"] = (bgcolor.strip().lower(), False)
    return decls


# -- the rules --------------------------------------------------------------------------------


def _subtree_reason(tag: Tag, decls: Declarations) -> str | None:
    """Why ``tag`` and everything in it is invisible, or ``None``."""
    if tag.name == "template":
        return "<template>"
    hidden_attr = tag.get("hidden")
    if hidden_attr is not None and str(hidden_attr).strip().lower() != "until-found":
        return "hidden attribute"
    aria = tag.get("aria-hidden")
    if isinstance(aria, str) and aria.strip().lower() == "true":
        return 'aria-hidden="true"'

    def value(name: str) -> str:
        return decls.get(name, ("", False))[0]

    if value("display") == "none":
        return "display:none"
    if value("content-visibility") == "hidden":
        return "display:none"
    opacity = _number(value("opacity"))
    if opacity is not None and opacity <= _MIN_ALPHA:
        return "opacity:0"
    if _is_offscreen(decls):
        return "off-screen"
    if _is_clipped(decls):
        return "clipped to nothing"
    if _is_scaled_away(value("transform")):
        return "scaled to nothing"
    classes = tag.get("class")
    if isinstance(classes, list) and classes:
        names = {c.lower() for c in classes}
        if not any(_SHOWN_ON_SOME_SCREENS.match(c) for c in names):
            for name in names:
                if name in _HIDING_CLASSES:
                    return f"{_HIDING_CLASSES[name]} (class {name!r})"
    return None


def _text_reason(ctx: _Context) -> str | None:
    """Why text with this inherited context is invisible, or ``None``."""
    if not ctx.visible:
        return "visibility:hidden"
    if ctx.font_px < _MIN_FONT_PX:
        return "tiny font"
    if ctx.color is None or ctx.background is None:
        return None
    if ctx.color.alpha <= _MIN_ALPHA:
        return "transparent text"
    color = _blend(ctx.color, ctx.background)
    if _contrast(color, ctx.background) < _MIN_CONTRAST:
        return "text colour matches the background"
    return None


def _inherit(ctx: _Context, decls: Declarations) -> _Context:
    if not decls:
        return ctx
    changes: dict[str, object] = {}
    visibility = decls.get("visibility", ("", False))[0]
    if visibility in ("hidden", "collapse"):
        changes["visible"] = False
    elif visibility == "visible":
        changes["visible"] = True
    size = decls.get("font-size", ("", False))[0] or _font_shorthand_size(decls.get("font", ("", False))[0])
    if size:
        px = _font_px(size, ctx.font_px)
        if px is not None:
            changes["font_px"] = px
    color = decls.get("color", ("", False))[0]
    if color:
        parsed = _color(color)
        if parsed != "inherit":
            changes["color"] = parsed
    background = _background(decls)
    if isinstance(background, _Rgba) and ctx.background is not None:
        changes["background"] = _blend(background, ctx.background)
    elif background != "inherit":
        changes["background"] = None if isinstance(background, str) else background
    return replace(ctx, **changes) if changes else ctx  # type: ignore[arg-type]


def _is_offscreen(decls: Declarations) -> bool:
    def px(name: str) -> float | None:
        return _length_px(decls.get(name, ("", False))[0])

    position = decls.get("position", ("", False))[0]
    if position in ("absolute", "fixed", "relative", "sticky"):
        for side in ("left", "top", "right", "bottom"):
            offset = px(side)
            if offset is not None and offset <= -_OFFSCREEN_PX:
                return True
    for name in ("margin-left", "margin-top", "text-indent"):
        offset = px(name)
        if offset is not None and offset <= -_OFFSCREEN_PX:
            return True
    transform = decls.get("transform", ("", False))[0]
    for match in re.finditer(r"translate(?:x|y|3d)?\(([^)]*)\)", transform):
        for part in match.group(1).split(","):
            offset = _length_px(part.strip())
            if offset is not None and offset <= -_OFFSCREEN_PX:
                return True
    return False


def _is_clipped(decls: Declarations) -> bool:
    clip = decls.get("clip", ("", False))[0]
    if clip.startswith("rect("):
        numbers = [abs(float(n)) for n in _NUMBER.findall(clip)]
        if numbers and max(numbers) <= _TINY_BOX_PX:
            return True
    clip_path = decls.get("clip-path", ("", False))[0]
    if re.match(r"^inset\(\s*(50|100)%", clip_path) or re.match(r"^circle\(\s*0(px|%)?\s*[ )]", clip_path):
        return True
    overflow = {decls.get(n, ("", False))[0] for n in ("overflow", "overflow-x", "overflow-y")}
    if overflow & {"hidden", "clip"}:
        for name in ("width", "height", "max-width", "max-height"):
            size = _length_px(decls.get(name, ("", False))[0])
            if size is not None and size <= _TINY_BOX_PX:
                return True
    return False


def _is_scaled_away(transform: str) -> bool:
    for match in re.finditer(r"scale(?:x|y|3d)?\(([^)]*)\)", transform):
        values = [_number(part.strip()) for part in match.group(1).split(",")]
        if any(v is not None and abs(v) < 0.01 for v in values):
            return True
    return False


# -- values -----------------------------------------------------------------------------------


def _number(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        if value.endswith("%"):
            return float(value[:-1]) / 100
        return float(value)
    except ValueError:
        return None


def _length_px(value: str) -> float | None:
    """A CSS length in pixels (em and rem as 16px, percentages of 1280px); ``None`` if not a length."""
    match = _LENGTH.match(value.strip().replace("!important", "").strip())
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2)
    if unit in ("", "px"):
        return number
    if unit in _PX_PER:
        return number * _PX_PER[unit]
    if unit in ("em", "rem", "ex", "ch"):
        return number * (16.0 if unit in ("em", "rem") else 8.0)
    if unit in _VIEWPORT_PX:
        return number * _VIEWPORT_PX[unit]
    if unit == "%":
        return number * 12.8
    return None


def _font_px(value: str, parent: float) -> float | None:
    value = value.strip()
    if value in _FONT_KEYWORDS:
        return _FONT_KEYWORDS[value]
    if value == "smaller":
        return parent / 1.2
    if value == "larger":
        return parent * 1.2
    match = _LENGTH.match(value)
    if match is None:
        return None  # calc(), var(), inherit...: keep the parent's
    number, unit = float(match.group(1)), match.group(2)
    if unit == "em":
        return number * parent
    if unit == "%":
        return number * parent / 100
    if unit == "rem":
        return number * 16.0
    if unit in ("ex", "ch"):
        return number * parent / 2
    return _length_px(value)


def _font_shorthand_size(font: str) -> str:
    """The size in a ``font`` shorthand (``bold 0/0 a``, ``12px/1.5 sans-serif``)."""
    for part in font.split():
        size = part.split("/", 1)[0]
        if _LENGTH.match(size) and (size == "0" or not size.replace(".", "").isdigit()):
            return size
    return ""


def _color(value: str) -> _Rgba | str | None:
    """An RGBA colour, ``"inherit"`` for a keyword that keeps the parent's, or ``None`` if unknown."""
    import tinycss2.color3

    value = value.replace("!important", "").strip()
    if value in ("inherit", "currentcolor", "unset", "initial", "revert"):
        return "inherit"
    parsed = tinycss2.color3.parse_color(value)
    if parsed is None or isinstance(parsed, str):
        return None
    return _Rgba(parsed.red, parsed.green, parsed.blue, parsed.alpha)


def _background(decls: Declarations) -> _Rgba | str | None:
    """The background colour an element sets: an RGBA, ``None`` for unknown, ``"inherit"`` for none."""
    image = decls.get("background-image", ("", False))[0]
    if image and image != "none":
        return None
    shorthand = decls.get("background", ("", False))[0]
    color = decls.get("background-color", ("", False))[0]
    if shorthand:
        if "url(" in shorthand or "gradient(" in shorthand:
            return None
        if not color:
            for token in _split_shorthand(shorthand):
                parsed = _color(token)
                if isinstance(parsed, _Rgba):
                    color = token
                    break
    if not color:
        return "inherit"
    parsed = _color(color)
    if parsed == "inherit":
        return "inherit"
    if isinstance(parsed, _Rgba) and parsed.alpha == 0:
        return "inherit"  # transparent: the parent's shows through
    return parsed


def _split_shorthand(value: str) -> Iterator[str]:
    """Top-level space-separated parts (``rgb(0, 0, 0)`` stays whole)."""
    depth, start = 0, 0
    for i, char in enumerate(value):
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == " " and depth == 0:
            if value[start:i]:
                yield value[start:i]
            start = i + 1
    if value[start:]:
        yield value[start:]


def _blend(top: _Rgba, bottom: _Rgba) -> _Rgba:
    a = top.alpha
    return _Rgba(
        top.red * a + bottom.red * (1 - a),
        top.green * a + bottom.green * (1 - a),
        top.blue * a + bottom.blue * (1 - a),
        1.0,
    )


def _luminance(color: _Rgba) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.red) + 0.7152 * channel(color.green) + 0.0722 * channel(color.blue)


def _contrast(a: _Rgba, b: _Rgba) -> float:
    la, lb = _luminance(a), _luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


# -- counting ---------------------------------------------------------------------------------

_SPACE_RE = re.compile(r"[ \t\f\v\r\n\u00a0]+")


def _collapse(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def _text_length(tag: Tag) -> int:
    """Characters of readable text in ``tag`` (not scripts, styles or comments)."""
    from bs4.element import NavigableString, TemplateString

    total = 0
    for node in tag.descendants:
        if type(node) is NavigableString or type(node) is TemplateString:
            total += len(_collapse(str(node)))
    return total
