"""Fixtures for the ingestion tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

PdfFactory = Callable[..., Path]


@pytest.fixture
def make_pdf() -> PdfFactory:
    """Build a real PDF with fpdf2: ``make_pdf(path, pages, title=None)``.

    Each page is a list of ``(text, font_size)`` blocks; long text wraps.
    """
    from fpdf import FPDF

    def build(path: Path, pages: Sequence[Sequence[tuple[str, int]]], title: str | None = None) -> Path:
        pdf = FPDF()
        if title is not None:
            pdf.set_title(title)
        for blocks in pages:
            pdf.add_page()
            for text, size in blocks:
                pdf.set_font("Helvetica", size=size)
                pdf.multi_cell(w=0, text=text, new_x="LMARGIN", new_y="NEXT")
        path.write_bytes(bytes(pdf.output()))
        return path

    return build
