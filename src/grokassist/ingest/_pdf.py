"""PDF to text with pypdf: the text layer, pages without one read by Tesseract OCR when
it is installed, encrypted files with an empty user password opened.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from ._parsed import Parsed, Rejected
from ._text import humanise, normalise_newlines

if TYPE_CHECKING:
    from pypdf import PageObject

__all__ = ["ocr_available", "parse_pdf"]

_SENTENCE_END = (".", "!", "?", ":", ";", ",")
_BULLETS = ("-", "*", "•", "–", "·", "▪", "○")
#: OCR reads at most this many pages of one file (about 6 s for a letter page scanned at
#: 300 dpi, on one core).
_MAX_OCR_PAGES = 300
#: Seconds Tesseract may spend on one image.
_OCR_TIMEOUT_S = 120
#: Images smaller than this (pixels) are icons and logos, not scanned text.
_MIN_OCR_PIXELS = 100 * 100
_OCR_HINT = (
    "it has no text layer (a scan?) and OCR is not available: install Tesseract "
    '(apt-get install tesseract-ocr) and pip install "grokassist[ocr]"'
)


@contextmanager
def _quiet() -> Iterator[None]:
    """pypdf reports what it repairs in a malformed file as warnings and log lines: keep them quiet."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def parse_pdf(raw: bytes, path: PurePath) -> Parsed:
    """PDF via pypdf: text per page, title from /Title or the first line, simple headings."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

    with _quiet():
        try:
            reader = PdfReader(io.BytesIO(raw))
            if reader.is_encrypted:
                try:
                    unlocked = reader.decrypt("")
                except DependencyError as exc:  # AES without the cryptography package
                    raise Rejected(
                        f'PDF is encrypted with AES and cannot be opened ({exc}); pip install "pypdf[crypto]"'
                    ) from exc
                if not unlocked:
                    raise Rejected("PDF is encrypted with a password; save an unprotected copy to ingest it")
            pages = [_page_text(page) for page in reader.pages]
            info = reader.metadata
            meta_title = (info.title or "").strip() if info is not None else ""
        except FileNotDecryptedError as exc:
            raise Rejected("PDF is encrypted with a password; save an unprotected copy to ingest it") from exc
        except PyPdfError as exc:
            raise Rejected(f"not a readable PDF ({exc})") from exc
        metadata: dict[str, int | str | float | bool] = {"pages": len(pages)}
        blank = [i for i, text in enumerate(pages) if not text.strip()]
        if blank:
            ocr_pages = _ocr(reader, blank, pages)
            if ocr_pages:
                metadata["ocr_pages"] = ocr_pages

    lines = [line.rstrip() for page in pages for line in [*normalise_newlines(page).split("\n"), ""]]
    first = next((line.strip() for line in lines if line.strip()), "")
    title = meta_title or (first if len(first) <= 120 else "") or humanise(path.stem)
    text = _pdf_markdown(lines, title)
    return Parsed(text=text, title=title, metadata=metadata)


def _page_text(page: PageObject) -> str:
    try:
        return page.extract_text() or ""
    except RecursionError:
        return ""  # a pathological content stream: the page is read as blank (OCR may still read it)


def ocr_available() -> str | None:
    """``None`` when pages can be OCRed here, else why not."""
    try:
        import PIL  # noqa: F401
        import pytesseract  # noqa: F401
    except ImportError:
        return 'the OCR extra is not installed: pip install "grokassist[ocr]"'
    if shutil.which("tesseract") is None:
        return "the tesseract program is not installed (Debian: apt-get install tesseract-ocr)"
    return None


def _ocr(reader: Any, blank: list[int], pages: list[str]) -> int:
    """OCR the images of the pages without text, in place; returns how many pages it read.

    Raises :class:`Rejected` when no page has text and OCR cannot help.
    """
    has_images = [i for i in blank if _has_images(reader.pages[i])]
    if not has_images:
        return 0
    missing = ocr_available()
    if missing is not None:
        if len(blank) == len(pages):
            raise Rejected(f"no text could be extracted: {_OCR_HINT} ({missing})")
        return 0
    import pytesseract

    languages = "+".join(lang for lang in _languages() if lang != "osd") or "eng"
    done = 0
    with _one_thread():
        for i in has_images[:_MAX_OCR_PAGES]:
            parts = []
            for image in _images(reader.pages[i]):
                if image.width * image.height < _MIN_OCR_PIXELS:
                    continue
                try:
                    parts.append(pytesseract.image_to_string(image, lang=languages, timeout=_OCR_TIMEOUT_S))
                except (pytesseract.TesseractError, RuntimeError, OSError, ValueError):
                    continue
            pages[i] = "\n".join(p.strip() for p in parts if p.strip())
            done += 1
    if not any(p.strip() for p in pages):
        raise Rejected("no text could be extracted, even with OCR (Tesseract found no text in its images)")
    return done


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run Tesseract single-threaded unless told otherwise: its OpenMP threads spin on a busy
    machine (a 300 dpi page took 46 s with them and 6 s without on two shared cores)."""
    if "OMP_THREAD_LIMIT" in os.environ:
        yield
        return
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        yield
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)


def _languages() -> list[str]:
    import pytesseract

    try:
        return sorted(pytesseract.get_languages(config=""))
    except (pytesseract.TesseractError, OSError, RuntimeError):
        return ["eng"]


def _has_images(page: PageObject) -> bool:
    try:
        return len(page.images) > 0
    except Exception:  # an image filter pypdf cannot decode, a broken resource dictionary
        return False


def _images(page: PageObject) -> Iterator[Any]:
    try:
        files = list(page.images)
    except Exception:
        return
    for file in files:
        try:
            image = file.image
        except Exception:  # JBIG2 and other filters Pillow cannot read
            continue
        if image is not None:
            yield image


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


#: a line shorter than this share of the document's full line width ended before the margin:
#: the break after it is the author's (a table row, a label, a list), not a wrap
_EARLY_END = 0.6
#: what a wrapped line may end with: the sentence goes on in the next line
_CONTINUES = (",", "(", "-", "/", ">", "&", "+", "=")


def _full_width(lines: list[str]) -> int:
    """The length of a full line of text (the 90th percentile of the lines' lengths)."""
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    return lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0


def _ends_early(previous: str, line: str, width: int) -> bool:
    """Whether the break between two lines of a PDF is a line of its own ending, not a wrap:
    ``previous`` stops well before the margin and ``line`` starts anew (a capital or a digit)."""
    return (
        width >= 40
        and len(previous) < _EARLY_END * width
        and not previous.endswith(_CONTINUES)
        and (line[:1].isupper() or line[:1].isdigit())
    )


def _pdf_markdown(lines: list[str], title: str) -> str:
    """Join PDF lines, marking the title line ``#`` and likely headings ``##``.

    Lines that wrap at the margin join into one paragraph; a line that ends well
    before it (a table row, a caption, a label) ends its paragraph, so that the
    rows of a table do not run together into one sentence.
    """
    width = _full_width(lines)
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
        if previous and previous != "#" and out and out[-1] and _ends_early(previous, line, width):
            out.append("")
        out.append(line)
        previous = line
    return "\n".join(out).strip("\n")
