"""Every real file, nothing lost: symbolic links, encodings, Word files, encrypted and scanned PDFs."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from grokassist.ingest import load_documents
from grokassist.ingest._pdf import ocr_available
from grokassist.types import Document

SAMPLES = Path(__file__).parent / "samples" / "pypdf"
BODY = "Hold the reset button for ten seconds until the lights blink."


def reasons(result: object) -> dict[str, str]:
    return {Path(e.source).name: e.reason for e in result.errors}  # type: ignore[attr-defined]


# -- folders: symbolic links and unreadable entries ---------------------------------------------


def test_symlink_loop_broken_link_and_linked_folder_are_reported_not_fatal(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.md").write_text(f"# Good\n\n{BODY}\n", "utf-8")
    os.symlink("b.md", docs / "a.md")
    os.symlink("a.md", docs / "b.md")  # a.md -> b.md -> a.md
    os.symlink("loop", docs / "loop")  # points at itself
    os.symlink("missing.md", docs / "broken.md")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "other.md").write_text("# Other\n\nOther text.\n", "utf-8")
    os.symlink(outside, docs / "linked-folder")
    (docs / "alias.md").symlink_to(docs / "good.md")  # a link to a file is read

    result = load_documents([docs])

    assert sorted(d.id for d in result.documents) == ["alias.md", "good.md"]
    found = reasons(result)
    assert found["a.md"] == "symbolic link loop"
    assert found["b.md"] == "symbolic link loop"
    assert found["loop"] == "symbolic link loop"
    assert found["broken.md"] == "broken symbolic link (to 'missing.md')"
    assert found["linked-folder"].startswith("symbolic link to a folder, not followed")


def test_naming_a_symlink_loop_directly_is_reported(tmp_path: Path) -> None:
    os.symlink(tmp_path / "y", tmp_path / "x")
    os.symlink(tmp_path / "x", tmp_path / "y")
    result = load_documents([tmp_path / "x"])
    assert [(Path(e.source).name, e.reason) for e in result.errors] == [("x", "symbolic link loop")]


def test_unlistable_folder_is_reported_and_the_rest_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok.md").write_text(BODY, "utf-8")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "x.md").write_text(BODY, "utf-8")
    real = os.scandir

    def scandir(path: object) -> object:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    result = load_documents([tmp_path])
    assert [d.id for d in result.documents] == ["ok.md"]
    assert reasons(result) == {"locked": "cannot list folder: Permission denied"}


def test_deeply_nested_folders_do_not_recurse(tmp_path: Path) -> None:
    folder = tmp_path
    for _ in range(60):
        folder = folder / "d"
    folder.mkdir(parents=True)
    (folder / "deep.md").write_text(BODY, "utf-8")
    (tmp_path / "top.md").write_text(BODY, "utf-8")
    ids = [d.id for d in load_documents([tmp_path]).documents]
    assert ids == ["d/" * 60 + "deep.md", "top.md"]  # sorted order kept


# -- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        ("Le café crème est prêt. Réglez le décodeur à nouveau.", "latin-1", "cp1252"),
        ("He said “reset it” – it’s fine… costs €5.", "cp1252", "cp1252"),
        ("Grüße aus München: schöne Straße.", "cp1252", "cp1252"),
        ("Перезагрузите роутер и подождите десять секунд, пока не загорится индикатор.", "cp1251", "cp1251"),
        ("Plain ASCII text about routers.", "ascii", "utf-8"),
        ("Ünïcödé with a byte-order mark.", "utf-8-sig", "utf-8"),
        ("UTF-16 with a byte-order mark: Grüße.", "utf-16", "utf-16"),
    ],
)
def test_text_encodings_are_detected_and_recorded(
    tmp_path: Path, text: str, encoding: str, expected: str
) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes(text.encode(encoding))
    doc = load_documents([path]).documents[0]
    assert doc.text == text
    assert doc.metadata["encoding"] == expected


def test_latin1_markdown_and_html_without_a_declared_charset(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes("# Café\n\nLa crème brûlée est prête.\n".encode("latin-1"))
    (tmp_path / "b.html").write_bytes("<p>Déjà vu à Orléans.</p>".encode("cp1252"))
    docs = {d.id: d for d in load_documents([tmp_path]).documents}
    assert docs["a.md"].title == "Café" and "crème brûlée" in docs["a.md"].text
    assert docs["b.html"].text == "Déjà vu à Orléans."
    assert docs["b.html"].metadata["encoding"] == "cp1252"


def test_binary_data_is_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "nul.txt").write_bytes(b"abc\x00\x01\x02" * 50)
    (tmp_path / "noise.txt").write_bytes(bytes(range(128, 256)) * 40)
    found = reasons(load_documents([tmp_path]))
    assert found["nul.txt"] == "looks like a binary file, not text"
    assert found["noise.txt"].startswith("looks like a binary file, not text")


# -- Word -----------------------------------------------------------------------------------


def _docx(build: Callable[[object], None]) -> bytes:
    import docx

    document = docx.Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_lists_tables_and_properties(tmp_path: Path) -> None:
    from docx.shared import Pt, RGBColor

    def build(d: object) -> None:
        d.core_properties.title = "Router guide"  # type: ignore[attr-defined]
        d.add_heading("Reset the router", level=1)  # type: ignore[attr-defined]
        d.add_paragraph(BODY)  # type: ignore[attr-defined]
        d.add_paragraph("Unplug it", style="List Number")  # type: ignore[attr-defined]
        d.add_paragraph("Wait ten seconds", style="List Number")  # type: ignore[attr-defined]
        d.add_paragraph("Keep the receipt", style="List Bullet")  # type: ignore[attr-defined]
        table = d.add_table(rows=2, cols=2)  # type: ignore[attr-defined]
        for row, cells in zip(table.rows, [("Light", "Meaning"), ("Green", "Online")], strict=True):
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
        paragraph = d.add_paragraph("Shown. ")  # type: ignore[attr-defined]
        paragraph.add_run("Hidden run.").font.hidden = True
        white = paragraph.add_run("White run.")
        white.font.color.rgb = RGBColor(0xFF, 0xFF, 0xFF)
        paragraph.add_run("Tiny run.").font.size = Pt(1)

    path = tmp_path / "guide.docx"
    path.write_bytes(_docx(build))
    result = load_documents([path])
    doc = result.documents[0]
    assert doc.title == "Router guide"
    assert doc.metadata["format"] == "docx"
    assert doc.text == (
        f"# Reset the router\n\n{BODY}\n\n1. Unplug it\n2. Wait ten seconds\n- Keep the receipt\n\n"
        "Light | Meaning\nGreen | Online\n\nShown."
    )
    assert result.hidden == [
        (
            str(path.resolve()),
            len("Hidden run.") + len("White run.") + len("Tiny run."),
            "hidden text (Word) (11), text colour matches the background (10), tiny font (9)",
        )
    ]


def test_broken_docx_is_reported(tmp_path: Path) -> None:
    (tmp_path / "zip.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "text.docx").write_bytes(b"just text")
    found = reasons(load_documents([tmp_path]))
    assert found["zip.docx"].startswith("not a readable Word (.docx) file")
    assert found["text.docx"].startswith("not a readable Word (.docx) file")


# -- PDF: encryption and scans ----------------------------------------------------------------


def _encrypted_pdf(path: Path, algorithm: str, user_password: str = "") -> Path:
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(w=0, text=f"Vendor manual. {BODY}")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256-R5", "AES-256"])
def test_pdf_encrypted_with_an_empty_user_password_is_read(tmp_path: Path, algorithm: str) -> None:
    path = _encrypted_pdf(tmp_path / "manual.pdf", algorithm)
    doc = load_documents([path]).documents[0]
    assert "Hold the reset button" in doc.text


def test_pdf_with_a_user_password_is_reported(tmp_path: Path) -> None:
    path = _encrypted_pdf(tmp_path / "locked.pdf", "AES-256", user_password="secret")
    assert reasons(load_documents([path])) == {
        "locked.pdf": "PDF is encrypted with a password; save an unprotected copy to ingest it"
    }


def test_pypdf_sample_aes_pdfs(tmp_path: Path) -> None:
    result = load_documents(
        [
            SAMPLES / n
            for n in ("r4-aes-v2-no-key-length.pdf", "r5-empty-password.pdf", "r6-empty-password.pdf")
        ]
        + [SAMPLES / "r6-both-passwords.pdf"]
    )
    assert sorted(d.id for d in result.documents) == [
        "r4-aes-v2-no-key-length.pdf",
        "r5-empty-password.pdf",
        "r6-empty-password.pdf",
    ]
    assert {d.text for d in result.documents} == {"# pdf encryption test\n\npassword: asdfzxcv"}
    assert reasons(result) == {
        "r6-both-passwords.pdf": "PDF is encrypted with a password; save an unprotected copy to ingest it"
    }


def _scanned_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF whose only content is a picture of text (no text layer), like a scanner makes."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1700, 220 + 90 * len(lines)), color=255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=56)
    for i, line in enumerate(lines):
        draw.text((80, 100 + 90 * i), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=190)
    path.write_bytes(bytes(pdf.output()))
    return path


@pytest.mark.skipif(ocr_available() is not None, reason=f"OCR not available: {ocr_available()}")
def test_scanned_pdf_is_read_with_ocr(tmp_path: Path) -> None:
    path = _scanned_pdf(tmp_path / "scan.pdf", ["Unplug the router", "for thirty seconds"])
    doc = load_documents([path]).documents[0]
    assert doc.metadata["ocr_pages"] == 1
    words = doc.text.lower().split()
    assert {"unplug", "router", "thirty", "seconds"} <= set(words)


def test_scanned_pdf_without_ocr_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = _scanned_pdf(tmp_path / "scan.pdf", ["Unplug the router"])
    reason = reasons(load_documents([path]))["scan.pdf"]
    assert "no text layer" in reason and "apt-get install tesseract-ocr" in reason
    assert 'pip install "grokassist[ocr]"' in reason


# -- HTML nesting -------------------------------------------------------------------------------


@pytest.mark.slow
def test_deeply_nested_html_parses(tmp_path: Path) -> None:
    depth = 50_000
    html = "<html><body>" + "<div><span>" * depth + "<p>Deep answer.</p>" + "</span></div>" * depth
    (tmp_path / "deep.html").write_text(html + "<ul>" + "<li>x<ul>" * 3000 + "</ul></li>" * 3000 + "</ul>")
    doc: Document = load_documents([tmp_path]).documents[0]
    assert doc.text.startswith("Deep answer.\n\n- x")
