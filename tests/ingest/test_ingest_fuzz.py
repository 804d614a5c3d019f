"""Fuzzing the loaders: whatever the bytes, a file becomes a document or an error with a reason."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grokassist.ingest import load_documents

SAMPLES = Path(__file__).parent / "samples" / "pypdf"
#: Examples per property; GROKASSIST_FUZZ_EXAMPLES=5000 for a longer campaign.
EXAMPLES = int(os.environ.get("GROKASSIST_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load_one(name: str, raw: bytes) -> None:
    """Load one file holding ``raw``: it must end as exactly one document or one reasoned error."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(raw)
        result = load_documents([Path(folder)])
    assert len(result.documents) + len(result.errors) == 1, (result.documents, result.errors)
    for error in result.errors:
        assert error.reason.strip(), "an error without a reason"
    for doc in result.documents:
        assert doc.text.strip() and doc.content_hash


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(["a.md", "a.txt", "a.html", "a.pdf", "a.docx"]))
def test_random_bytes_never_crash_a_loader(raw: bytes, name: str) -> None:
    _load_one(name, raw)


@FUZZ
@given(st.text(max_size=2000), st.sampled_from(["a.md", "a.txt", "a.html"]))
def test_random_text_never_crashes_a_loader(text: str, name: str) -> None:
    _load_one(name, text.encode("utf-8", "surrogatepass"))


_TAGS = [
    "div",
    "p",
    "span",
    "ul",
    "ol",
    "li",
    "table",
    "tr",
    "td",
    "pre",
    "h1",
    "h2",
    "template",
    "style",
    "a",
]


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.sampled_from([f"<{t}>" for t in _TAGS] + [f"</{t}>" for t in _TAGS]),
            st.sampled_from(
                ['<p style="display:none">', '<span style="color:#fff;font-size:0">', "<!--", "-->"]
            ),
            st.sampled_from(["<style>.x{display:none}</style>", '<b class="x">', "<br>", "&amp;", "&#0;"]),
            st.text(alphabet="abc <>/=\"'&;", max_size=12),
        ),
        max_size=200,
    )
)
def test_tag_soup_never_crashes_the_html_loader(parts: list[str]) -> None:
    _load_one("soup.html", "".join(parts).encode())


def _valid_samples() -> dict[str, bytes]:
    import docx
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(w=0, text="Reset the router. Hold the button for ten seconds.")
    document = docx.Document()
    document.add_heading("Reset", 1)
    document.add_paragraph("Hold the button for ten seconds.")
    buffer = io.BytesIO()
    document.save(buffer)
    return {
        "sample.pdf": bytes(pdf.output()),
        "aes.pdf": (SAMPLES / "r6-empty-password.pdf").read_bytes(),
        "sample.docx": buffer.getvalue(),
        "sample.html": b"<html><head><title>T</title></head><body><h1>Reset</h1><p>Hold it.</p></body>",
    }


_VALID = _valid_samples()


@settings(max_examples=2 * EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(_VALID)),
    st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=20),
    st.one_of(st.none(), st.floats(0, 1)),
)
def test_damaged_real_files_never_crash_a_loader(
    name: str,
    flips: list[tuple[float, int]],
    truncate: float | None,
) -> None:
    raw = bytearray(_VALID[name])
    for where, value in flips:
        raw[min(len(raw) - 1, int(where * len(raw)))] = value
    if truncate is not None:
        raw = raw[: int(truncate * len(raw))]
    _load_one(name, bytes(raw))


@pytest.mark.parametrize("name", sorted(_VALID))
def test_undamaged_samples_load(name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / name).write_bytes(_VALID[name])
        result = load_documents([Path(folder)])
    assert [d.id for d in result.documents] == [name], result.errors
