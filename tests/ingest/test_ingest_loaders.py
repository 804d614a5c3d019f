"""Tests of grokassist.ingest.load_documents: formats, metadata, ids, hashes, bad input."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grokassist.config import IngestSettings
from grokassist.errors import ConfigurationError, DocumentError
from grokassist.ingest import LoadResult, chunk_documents, load_documents
from grokassist.text import split_units
from grokassist.types import Document

PdfFactory = Callable[..., Path]

BODY = "Hold the reset button for ten seconds until the lights blink. The router then restarts."


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def only_doc(result: LoadResult) -> Document:
    assert result.errors == []
    assert len(result.documents) == 1
    return result.documents[0]


def errors_by_name(result: LoadResult) -> dict[str, str]:
    return {Path(e.source).name: e.reason for e in result.errors}


# -- folders, ids, roots ----------------------------------------------------------------------


def test_folder_is_walked_recursively_in_sorted_order_with_relative_ids(
    tmp_path: Path, make_pdf: PdfFactory
) -> None:
    write(tmp_path / "network" / "router-reset.md", f"# Router reset\n\n{BODY}\n")
    write(tmp_path / "network" / "wifi" / "channels.txt", "Pick channel 1, 6 or 11.\n")
    write(tmp_path / "billing.html", "<html><body><h1>Billing</h1><p>Pay monthly.</p></body></html>")
    make_pdf(tmp_path / "manual.pdf", [[("Quick start guide for the router.", 11)]])
    write(tmp_path / ".hidden.md", "# Hidden\n\nsecret\n")
    write(tmp_path / ".git" / "notes.md", "# Git\n\ninternal\n")
    write(tmp_path / "logo.png", b"\x89PNG\r\n\x1a\n")  # unsupported inside a folder: ignored silently

    result = load_documents([tmp_path])

    assert result.errors == []
    assert [d.id for d in result.documents] == [
        "billing.html",
        "manual.pdf",
        "network/router-reset.md",
        "network/wifi/channels.txt",
    ]
    assert result.roots == [tmp_path.resolve()]
    formats = {d.id: d.metadata["format"] for d in result.documents}
    assert formats == {
        "billing.html": "html",
        "manual.pdf": "pdf",
        "network/router-reset.md": "md",
        "network/wifi/channels.txt": "txt",
    }
    for doc in result.documents:
        path = Path(str(doc.metadata["path"]))
        assert path.is_absolute() and path.is_file()
        assert doc.source == str(path)
        assert path.relative_to(tmp_path.resolve()).as_posix() == doc.id


def test_named_file_gets_its_file_name_as_id(tmp_path: Path) -> None:
    path = write(tmp_path / "sub" / "faq.md", f"# FAQ\n\n{BODY}\n")
    result = load_documents([str(path)])
    doc = only_doc(result)
    assert doc.id == "faq.md"
    assert doc.source == str(path.resolve())
    assert result.roots == [path.resolve()]


def test_a_single_path_string_is_not_iterated_character_by_character(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.md", f"# FAQ\n\n{BODY}\n")
    doc = only_doc(load_documents(str(path)))
    assert doc.id == "faq.md"


def test_same_file_named_twice_is_loaded_once(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.md", f"# FAQ\n\n{BODY}\n")
    result = load_documents([tmp_path, path])
    assert [d.id for d in result.documents] == ["faq.md"]
    assert result.errors == []
    assert result.roots == [tmp_path.resolve(), path.resolve()]


def test_duplicate_ids_from_two_folders_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "a" / "faq.md", f"# FAQ A\n\n{BODY}\n")
    second = write(tmp_path / "b" / "faq.md", f"# FAQ B\n\n{BODY}\n")
    result = load_documents([tmp_path / "a", tmp_path / "b"])
    assert [d.title for d in result.documents] == ["FAQ A"]
    assert len(result.errors) == 1
    assert result.errors[0].source == str(second.resolve())
    assert "duplicate document id 'faq.md'" in result.errors[0].reason


def test_extensions_setting_limits_what_a_folder_yields(tmp_path: Path) -> None:
    write(tmp_path / "a.md", f"# A\n\n{BODY}\n")
    write(tmp_path / "b.txt", BODY)
    result = load_documents([tmp_path], settings=IngestSettings(extensions=(".md",)))
    assert [d.id for d in result.documents] == ["a.md"]
    assert result.errors == []


# -- markdown -----------------------------------------------------------------------------


def test_markdown_front_matter_sets_fields_and_metadata(tmp_path: Path) -> None:
    path = write(
        tmp_path / "reset.md",
        "---\n"
        "title: Resetting the X1\n"
        "product: router-x1\n"
        "locale: en-GB\n"
        "updated: 2024-05-01\n"
        "url: https://support.example.test/reset\n"
        "tags: [reset, factory, lights]\n"
        "priority: 3\n"
        "beta: true\n"
        "nested: {a: 1}\n"
        "empty:\n"
        "---\n"
        "# Some other heading\n\n"
        f"{BODY}\n\n## Lights\n\nGreen means online.\n",
    )
    doc = only_doc(load_documents([path], metadata={"kb": "support", "product": "generic"}))

    assert doc.title == "Resetting the X1"
    assert doc.source == "https://support.example.test/reset"
    assert doc.updated == datetime(2024, 5, 1, tzinfo=UTC)
    assert doc.metadata == {
        "kb": "support",  # caller metadata merged under the document's own
        "product": "router-x1",
        "locale": "en-GB",
        "updated": "2024-05-01",
        "tags": "reset, factory, lights",
        "priority": 3,
        "beta": True,
        "path": str(path.resolve()),
        "format": "md",
        "encoding": "utf-8",
    }
    assert "---" not in doc.text and "product:" not in doc.text
    assert doc.text.startswith("# Some other heading\n\nHold the reset button")
    assert "\n## Lights\n" in doc.text


def test_markdown_source_key_wins_over_url(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "---\nurl: https://u.test\nsource: https://s.test\n---\nBody text.\n")
    assert only_doc(load_documents([path])).source == "https://s.test"


def test_markdown_title_falls_back_to_h1_then_humanised_stem(tmp_path: Path) -> None:
    with_h1 = write(tmp_path / "a.md", "```\n# not a heading\n```\n\n# Real Title\n\nText.\n")
    without = write(tmp_path / "router-reset_guide.md", "Just text, no heading.\n")
    result = load_documents([with_h1, without])
    assert [d.title for d in result.documents] == ["Real Title", "Router reset guide"]


def test_front_matter_datetime_is_made_utc(tmp_path: Path) -> None:
    naive = write(tmp_path / "a.md", "---\nupdated: 2024-05-01 10:30:00\n---\nText.\n")
    offset = write(tmp_path / "b.md", "---\nupdated: '2024-05-01T12:30:00+02:00'\n---\nText.\n")
    a, b = load_documents([naive, offset]).documents
    assert a.updated == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert b.updated == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert b.updated is not None and b.updated.tzinfo == UTC


def test_updated_defaults_to_file_mtime_in_utc(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "Text.\n")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    doc = only_doc(load_documents([path]))
    assert doc.updated == datetime.fromtimestamp(1_700_000_000, UTC)


def test_utf8_bom_and_crlf_are_handled(tmp_path: Path) -> None:
    path = write(tmp_path / "a.md", "\ufeff---\r\ntitle: Café\r\n---\r\nLine one\r\nLine two\r\n".encode())
    doc = only_doc(load_documents([path]))
    assert doc.title == "Café"
    assert doc.text == "Line one\nLine two"


def test_plain_text_file(tmp_path: Path) -> None:
    path = write(tmp_path / "wifi-channels.txt", "Pick channel 1, 6 or 11.\n\nAvoid overlap.\n")
    doc = only_doc(load_documents([path]))
    assert doc.title == "Wifi channels"
    assert doc.text == "Pick channel 1, 6 or 11.\n\nAvoid overlap."
    assert doc.metadata["format"] == "txt"


# -- HTML ---------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Router reset | Acme Support</title>
  <meta name="viewport" content="width=device-width">
  <meta name="product" content="router-x1">
  <meta name="updated" content="2024-03-05T10:00:00+01:00">
  <meta name="description" content="How to reset the router">
  <style>body { color: red }</style>
</head>
<body>
<nav><a href="/">Home</a> &gt; <a href="/r">Routers</a></nav>
<script>var hidden = "script text";</script>
<h1>Reset your <em>router</em></h1>
<p>If the router stops <b>responding</b>,
   reset it.</p>
<!-- a comment -->
<h2>Steps</h2>
<ol>
  <li>Find the <code>RESET</code> hole.</li>
  <li>Press it for 10 seconds.<ul><li>Use a paperclip</li></ul></li>
</ol>
<ul><li>Keep it plugged in</li></ul>
<h3>Lights</h3>
<table>
 <tr><th>Light</th><th>Meaning</th></tr>
 <tr><td>Green</td><td>Online</td></tr>
</table>
<pre>ping 192.168.1.1
  -c 3</pre>
<footer>Copyright Acme</footer>
</body></html>
"""


def test_html_structure_becomes_markdown_ish_text(tmp_path: Path) -> None:
    path = write(tmp_path / "reset.html", HTML)
    doc = only_doc(load_documents([path]))
    assert doc.text == (
        "# Reset your router\n\n"
        "If the router stops responding, reset it.\n\n"
        "## Steps\n\n"
        "1. Find the RESET hole.\n"
        "2. Press it for 10 seconds.\n"
        "  - Use a paperclip\n\n"
        "- Keep it plugged in\n\n"
        "### Lights\n\n"
        "Light | Meaning\n"
        "Green | Online\n\n"
        "```\nping 192.168.1.1\n  -c 3\n```"
    )
    for dropped in ("Home", "script text", "color: red", "Copyright", "a comment"):
        assert dropped not in doc.text


def test_html_title_and_meta_tags(tmp_path: Path) -> None:
    path = write(tmp_path / "reset.html", HTML)
    doc = only_doc(load_documents([path]))
    assert doc.title == "Reset your router"  # the first <h1> beats the <title> with its site suffix
    assert doc.updated == datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
    assert doc.metadata["product"] == "router-x1"
    assert doc.metadata["description"] == "How to reset the router"
    assert doc.metadata["locale"] == "en-GB"  # from <html lang>
    assert doc.metadata["format"] == "html"
    assert "viewport" not in doc.metadata


def test_html_title_tag_and_canonical_link(tmp_path: Path) -> None:
    path = write(
        tmp_path / "a.htm",
        '<html><head><title>Billing FAQ</title><link rel="canonical" href="https://kb.test/billing">'
        '<meta name="locale" content="de-DE"></head><body><p>Pay monthly.</p></body></html>',
    )
    doc = only_doc(load_documents([path]))
    assert doc.title == "Billing FAQ"
    assert doc.source == "https://kb.test/billing"
    assert doc.metadata["locale"] == "de-DE"
    assert doc.text == "Pay monthly."


def test_html_declared_charset_is_honoured(tmp_path: Path) -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>Café crème</p></body></html>'
    path = write(tmp_path / "a.html", html.encode("latin-1"))
    assert only_doc(load_documents([path])).text == "Café crème"


# -- PDF ----------------------------------------------------------------------------------

PARAGRAPH = (
    "Hold the reset button for ten seconds until the lights blink. The router restarts and "
    "all settings return to their factory defaults, including the wireless password."
)


def test_pdf_text_title_and_headings(tmp_path: Path, make_pdf: PdfFactory) -> None:
    path = make_pdf(
        tmp_path / "manual.pdf",
        [
            [("Router Manual", 18), ("Resetting The Router", 14), (PARAGRAPH, 11)],
            [("Second page: the lights.", 11)],
        ],
        title="Router X1 Manual",
    )
    doc = only_doc(load_documents([path]))
    assert doc.title == "Router X1 Manual"
    assert doc.metadata["format"] == "pdf"
    assert doc.metadata["pages"] == 2
    assert "## Resetting The Router" in doc.text
    assert "Hold the reset button for ten seconds" in doc.text
    assert doc.text.endswith("Second page: the lights.")
    # a short body line is not mistaken for a heading
    assert "## Second" not in doc.text


def test_pdf_table_rows_stay_apart_while_wrapped_lines_join(tmp_path: Path, make_pdf: PdfFactory) -> None:
    """A line that ends well before the margin (a table row) ends its paragraph; a wrapped one joins."""
    rows = "\n".join(
        ("Light Meaning", "Solid white Online", "Blinking red Factory reset in progress", "Off No power")
    )
    path = make_pdf(tmp_path / "lights.pdf", [[("Router lights", 16), (PARAGRAPH * 2, 11), (rows, 11)]])
    doc = only_doc(load_documents([path]))
    units = [u.text for u in split_units(doc.text)]
    assert "Solid white Online" in units
    assert "Blinking red Factory reset in progress" in units
    # the paragraph wrapped over several lines is still one run of whole sentences
    assert any(u.startswith("The router restarts and all settings return") for u in units)


def test_pdf_title_falls_back_to_first_line(tmp_path: Path, make_pdf: PdfFactory) -> None:
    path = make_pdf(tmp_path / "guide.pdf", [[("Quick Start Guide", 16), (PARAGRAPH, 11)]])
    doc = only_doc(load_documents([path]))
    assert doc.title == "Quick Start Guide"
    assert doc.text.startswith("# Quick Start Guide\n")


# -- hashes -------------------------------------------------------------------------------


def test_content_hash_depends_on_bytes_and_caller_metadata_only(tmp_path: Path) -> None:
    a = write(tmp_path / "a" / "doc.md", f"# Doc\n\n{BODY}\n")
    b = write(tmp_path / "b" / "doc.md", f"# Doc\n\n{BODY}\n")

    def digest(path: Path, **meta: str) -> str:
        return only_doc(load_documents([path], metadata=meta)).content_hash

    first = digest(a)
    assert len(first) == 64 and int(first, 16) >= 0
    assert digest(b) == first  # same bytes, another place
    os.utime(a, (time.time() + 3600, time.time() + 3600))
    assert digest(a) == first  # touched: unchanged
    assert digest(a, kb="other") != first  # caller metadata is part of it
    a.write_text(f"# Doc\n\n{BODY} Edited.\n", encoding="utf-8")
    assert digest(a) != first


def test_in_memory_documents_pass_through_with_a_hash(tmp_path: Path) -> None:
    plain = Document(id="mem-1", text="Reset by holding the button.", title="Reset")
    hashed = Document(id="mem-2", text="Other.", content_hash="keep-me")
    result = load_documents([plain, hashed], metadata={"kb": "support"})
    assert result.errors == [] and result.roots == []
    first, second = result.documents
    assert first.id == "mem-1" and first.text == plain.text
    assert len(first.content_hash) == 64
    assert first.metadata == {"kb": "support"}
    assert second.content_hash == "keep-me"
    again = load_documents([plain], metadata={"kb": "support"}).documents[0]
    assert again.content_hash == first.content_hash
    edited = load_documents([plain.model_copy(update={"text": "Changed."})], metadata={"kb": "support"})
    assert edited.documents[0].content_hash != first.content_hash


# -- bad input ----------------------------------------------------------------------------


def test_each_bad_file_is_reported_and_the_good_ones_still_load(tmp_path: Path, make_pdf: PdfFactory) -> None:
    write(tmp_path / "good.md", f"# Good\n\n{BODY}\n")
    write(tmp_path / "big.md", "# Big\n\n" + "word " * 400)
    write(tmp_path / "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8")
    write(tmp_path / "bad-yaml.md", "---\ntitle: [unclosed\nproduct: x\n---\nBody.\n")
    write(tmp_path / "list-yaml.md", "---\n- a\n- b\n---\nBody.\n")
    write(tmp_path / "corrupt.pdf", b"%PDF-1.4\n1 0 obj garbage")
    write(tmp_path / "empty.md", "")
    write(tmp_path / "blank.txt", "  \n\n \n")
    write(tmp_path / "empty-body.html", "<html><body><script>x()</script></body></html>")
    make_pdf(tmp_path / "no-text.pdf", [[]])

    result = load_documents([tmp_path], settings=IngestSettings(max_file_bytes=1024))

    assert [d.id for d in result.documents] == ["good.md"]
    reasons = errors_by_name(result)
    assert set(reasons) == {
        "big.md", "binary.txt", "bad-yaml.md", "list-yaml.md", "corrupt.pdf",
        "empty.md", "blank.txt", "empty-body.html", "no-text.pdf",
    }  # fmt: skip
    assert reasons["big.md"] == "file is 2.0 KB, over the 1.0 KB limit"
    assert reasons["binary.txt"] == "looks like a binary file, not text"
    assert reasons["bad-yaml.md"].startswith("invalid YAML front matter on line")
    assert "list" in reasons["list-yaml.md"] and "mapping" in reasons["list-yaml.md"]
    assert reasons["corrupt.pdf"].startswith("not a readable PDF")
    assert reasons["empty.md"] == "file is empty"
    assert reasons["blank.txt"] == "file is empty"
    assert reasons["empty-body.html"] == "no text could be extracted from this HTML file"
    assert reasons["no-text.pdf"] == "no text could be extracted from this PDF file"
    for error in result.errors:
        assert isinstance(error, DocumentError)
        assert Path(error.source).is_absolute()
        assert str(error) == f"{error.source}: {error.reason}"


def test_oversized_message_uses_megabytes(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as f:  # sparse: no real disk use
        f.truncate(int(31.2 * 1024 * 1024))
    result = load_documents([path], settings=IngestSettings(max_file_bytes=20 * 1024 * 1024))
    assert result.documents == []
    assert [(e.source, e.reason) for e in result.errors] == [
        (str(path.resolve()), "file is 31.2 MB, over the 20.0 MB limit")
    ]


def test_encrypted_pdf_is_reported(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(text="Top secret reset codes.")
    path = write(tmp_path / "locked.pdf", bytes(pdf.output()))
    good = write(tmp_path / "good.md", BODY)

    result = load_documents([path, good])

    assert [d.id for d in result.documents] == ["good.md"]
    assert [e.source for e in result.errors] == [str(path.resolve())]
    assert "encrypted with a password" in result.errors[0].reason


def test_unsupported_named_file_and_missing_path_are_errors(tmp_path: Path) -> None:
    good = write(tmp_path / "good.md", BODY)
    slides = write(tmp_path / "manual.pptx", b"PK\x03\x04")
    missing = tmp_path / "nope" / "gone.md"

    result = load_documents([slides, missing, good])

    assert [d.id for d in result.documents] == ["good.md"]
    assert [(Path(e.source), e.reason) for e in result.errors] == [
        (
            slides.resolve(),
            "unsupported file type '.pptx'; supported: .docx, .htm, .html, .markdown, .md, .pdf, .txt",
        ),
        (missing, "no such file or folder"),
    ]
    assert result.roots == [slides.resolve(), good.resolve()]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_not_read(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.md"
    os.mkfifo(pipe)
    result = load_documents([pipe])
    assert [(e.source, e.reason) for e in result.errors] == [(str(pipe.resolve()), "not a regular file")]


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = write(tmp_path / "locked.md", BODY)
    write(tmp_path / "open.md", BODY)
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.md":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    result = load_documents([tmp_path])

    assert [d.id for d in result.documents] == ["open.md"]
    assert [(e.source, e.reason) for e in result.errors] == [
        (str(locked.resolve()), "permission denied: cannot read the file")
    ]


def test_unexpected_parser_failure_is_contained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grokassist.ingest import _formats

    def explode(raw: bytes, path: Path) -> _formats.Parsed:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(_formats.FORMATS, ".html", ("html", explode))
    write(tmp_path / "deep.html", "<div>" * 10 + "x")
    write(tmp_path / "ok.md", BODY)
    result = load_documents([tmp_path])
    assert [d.id for d in result.documents] == ["ok.md"]
    assert errors_by_name(result) == {
        "deep.html": "could not be parsed: RecursionError: maximum recursion depth exceeded"
    }


def test_bad_caller_metadata_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="metadata values"):
        load_documents([tmp_path], metadata={"tags": ["a", "b"]})  # type: ignore[dict-item]


# -- speed --------------------------------------------------------------------------------


def test_five_hundred_small_markdown_files_load_and_chunk_quickly(tmp_path: Path) -> None:
    for i in range(500):
        write(
            tmp_path / f"group{i % 10}" / f"article-{i:03d}.md",
            f"---\ntitle: Article {i}\nproduct: p{i % 5}\n---\n# Article {i}\n\n{BODY}\n\n"
            f"## Details\n\n{BODY} {BODY}\n\n## More\n\n- step one\n- step two\n",
        )
    start = time.perf_counter()
    result = load_documents([tmp_path])
    passages = chunk_documents(result.documents)
    elapsed = time.perf_counter() - start
    assert len(result.documents) == 500 and result.errors == []
    assert len(passages) >= 500
    assert elapsed < 3.0, f"loading and chunking 500 files took {elapsed:.2f}s"
