"""Tests of grokassist.ingest chunking: heading paths, sizes, overlap, merging, ids."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

import grokassist.ingest as ingest
from grokassist.errors import ConfigurationError
from grokassist.ingest import chunk_document, chunk_documents, count_tokens
from grokassist.types import Document


def sentences(n: int, topic: str = "router") -> list[str]:
    return [
        f"Sentence {i} explains how the {topic} behaves when the lights blink in pattern {i}."
        for i in range(n)
    ]


def doc(text: str, *, title: str = "Router Guide", doc_id: str = "network/router.md") -> Document:
    return Document(
        id=doc_id,
        text=text,
        title=title,
        source="https://kb.test/router",
        metadata={"product": "x1", "format": "md", "rank": 2, "beta": False},
    )


def test_public_api_is_sorted_and_complete() -> None:
    assert ingest.__all__ == sorted(ingest.__all__)
    assert set(ingest.__all__) == {
        "LoadResult", "chunk_document", "chunk_documents", "count_tokens", "load_documents",
    }  # fmt: skip


def test_count_tokens_approximates_words_times_1_3() -> None:
    assert count_tokens("") == 0
    assert count_tokens("   \n") == 0
    assert count_tokens("reset") == 2  # ceil(1.3)
    assert count_tokens("hold the reset button") == 6  # ceil(5.2)
    assert count_tokens("Wait, then retry.") == 7  # 5 tokens (words and punctuation) * 1.3
    long = " ".join(["word"] * 100)
    assert count_tokens(long) == 130


def test_heading_paths_start_below_the_title() -> None:
    text = (
        "# Router Guide\n\n"
        + " ".join(sentences(3))
        + "\n\n## Setup\n\n"
        + " ".join(sentences(3, "modem"))
        + "\n\n### Cables\n\n"
        + " ".join(sentences(3, "cable"))
        + "\n\n## Troubleshooting\n\n"
        + " ".join(sentences(3, "wifi"))
    )
    passages = chunk_document(doc(text), chunk_tokens=60, overlap=10)
    by_path: dict[tuple[str, ...], list[str]] = {}
    for p in passages:
        by_path.setdefault(p.heading_path, []).append(p.text)
    assert list(by_path) == [(), ("Setup",), ("Setup", "Cables"), ("Troubleshooting",)]
    assert all("router" in t for t in by_path[()])
    assert all("modem" in t for t in by_path[("Setup",)])
    assert all("cable" in t for t in by_path[("Setup", "Cables")])
    assert all("wifi" in t for t in by_path[("Troubleshooting",)])
    for p in passages:
        assert p.title == "Router Guide"
        assert not p.text.lstrip().startswith("#")  # headings live in heading_path, not the text
    assert passages[0].indexed_text().startswith("Router Guide\n")


def test_passage_ids_positions_and_fields() -> None:
    text = "\n\n".join(f"## Part {i}\n\n" + " ".join(sentences(8)) for i in range(3))
    d = doc(text)
    passages = chunk_document(d, chunk_tokens=80, overlap=20)
    assert len(passages) > 3
    assert [p.id for p in passages] == [f"network/router.md#{i}" for i in range(len(passages))]
    assert [p.position for p in passages] == list(range(len(passages)))
    for p in passages:
        assert p.doc_id == "network/router.md"
        assert p.source == "https://kb.test/router"
        assert p.metadata == {"product": "x1", "format": "md", "rank": 2, "beta": False}


def test_long_section_is_split_with_bounded_sizes_and_overlap() -> None:
    parts = sentences(40)
    text = "## Lights\n\n" + " ".join(parts[:20]) + "\n\n" + " ".join(parts[20:])
    passages = chunk_document(doc(text), chunk_tokens=100, overlap=30)

    assert len(passages) >= 5
    for p in passages:
        assert p.text.strip()
        assert count_tokens(p.text) <= 100
        assert p.heading_path == ("Lights",)
    # every sentence survives, whole, in some passage
    for sentence in parts:
        assert any(sentence in p.text for p in passages), sentence
    # consecutive passages share about `overlap` tokens: the next starts with the end of the previous
    for prev, nxt in pairwise(passages):
        first_sentence = re.split(r"(?<=\.)\s", nxt.text)[0]
        assert first_sentence in prev.text
        shared = count_tokens(first_sentence)
        assert 0 < shared <= 30


def test_overlap_zero_means_no_repetition() -> None:
    parts = sentences(30)
    passages = chunk_document(doc(" ".join(parts)), chunk_tokens=80, overlap=0)
    joined = " ".join(p.text for p in passages)
    assert joined == " ".join(parts)


def test_split_prefers_paragraph_boundaries() -> None:
    paragraphs = [" ".join(sentences(4, f"topic{i}")) for i in range(6)]  # ~80 tokens each
    passages = chunk_document(doc("\n\n".join(paragraphs)), chunk_tokens=200, overlap=0)
    for p in passages:
        # each passage is made of whole paragraphs
        assert all(chunk in paragraphs for chunk in p.text.split("\n\n")), p.text


def test_small_sibling_sections_are_merged_under_their_parent() -> None:
    text = (
        "# Router Guide\n\n"
        "## Install\n\n"
        "### Windows\n\nRun the installer.\n\n"
        "### macOS\n\nOpen the disk image.\n\n"
        "### Linux\n\nUse the package.\n\n"
        "## Warranty\n\n" + " ".join(sentences(12, "warranty"))
    )
    passages = chunk_document(doc(text), chunk_tokens=120, overlap=20)
    first = passages[0]
    assert first.heading_path == ("Install",)
    assert first.text == (
        "### Windows\nRun the installer.\n\n### macOS\nOpen the disk image.\n\n### Linux\nUse the package."
    )
    assert all(p.heading_path == ("Warranty",) for p in passages[1:])
    assert all("installer" not in p.text for p in passages[1:])


def test_sections_of_normal_size_are_not_merged() -> None:
    text = "## A\n\n" + " ".join(sentences(4, "alpha")) + "\n\n## B\n\n" + " ".join(sentences(4, "beta"))
    passages = chunk_document(doc(text), chunk_tokens=200, overlap=40)
    assert [p.heading_path for p in passages] == [("A",), ("B",)]


def test_heading_inside_code_block_is_not_a_heading() -> None:
    text = "## Shell\n\nRun this:\n\n```bash\n# restart the service\nsudo systemctl restart router\n```\n"
    (passage,) = chunk_document(doc(text))
    assert passage.heading_path == ("Shell",)
    assert "# restart the service\nsudo systemctl restart router" in passage.text


def test_long_list_is_split_between_lines() -> None:
    items = [f"- Step {i}: unplug cable {i} and wait for the light to turn amber" for i in range(40)]
    passages = chunk_document(doc("## Steps\n\n" + "\n".join(items)), chunk_tokens=80, overlap=20)
    assert len(passages) > 3
    for p in passages:
        assert count_tokens(p.text) <= 80
        for line in p.text.split("\n"):
            assert line in items  # every line is a whole list item
    assert {line for p in passages for line in p.text.split("\n")} == set(items)


def test_giant_word_is_cut_to_size() -> None:
    url = "https://example.test/" + "%2Fsegment" * 400
    passages = chunk_document(doc(f"See {url} for details."), chunk_tokens=60, overlap=10)
    assert len(passages) > 5
    assert all(0 < count_tokens(p.text) <= 60 for p in passages)


def test_text_without_headings_is_one_passage() -> None:
    (passage,) = chunk_document(doc("Just a short answer."))
    assert passage.text == "Just a short answer."
    assert passage.heading_path == ()


def test_document_with_only_headings_still_yields_a_passage() -> None:
    (passage,) = chunk_document(doc("# Router Guide\n\n## Coming soon"))
    assert passage.text == "Router Guide\nComing soon"


def test_empty_document_yields_nothing() -> None:
    assert chunk_document(doc("  \n\n")) == []


def test_first_h1_is_the_title_when_the_document_has_none() -> None:
    (passage,) = chunk_document(doc("# Billing\n\nPay monthly.", title=""))
    assert passage.title == "Billing"
    assert passage.heading_path == ()
    assert passage.text == "Pay monthly."


def test_leading_h1_is_never_in_the_heading_path() -> None:
    text = "# Reset your router\n\nIntro.\n\n## Steps\n\nHold the button."
    passages = chunk_document(doc(text, title="Resetting the X1"), chunk_tokens=200)
    assert [p.heading_path for p in passages] == [()]  # tiny sections merged under the document
    assert passages[0].text == "Intro.\n\n## Steps\nHold the button."
    assert passages[0].title == "Resetting the X1"


def test_another_h1_starts_a_new_heading_path() -> None:
    text = "# Router Guide\n\nIntro.\n\n# Appendix\n\n## Codes\n\n" + " ".join(sentences(5, "code"))
    passages = chunk_document(doc(text), chunk_tokens=60, overlap=0)
    assert passages[0].heading_path == ()
    assert passages[-1].heading_path == ("Appendix", "Codes")


def test_chunk_documents_keeps_document_order() -> None:
    docs = [doc(f"Answer {i}.", doc_id=f"d{i}.md") for i in range(3)]
    assert [p.id for p in chunk_documents(docs)] == ["d0.md#0", "d1.md#0", "d2.md#0"]


@pytest.mark.parametrize(("chunk_tokens", "overlap"), [(0, 0), (50, 50), (50, -1)])
def test_invalid_sizes_are_rejected(chunk_tokens: int, overlap: int) -> None:
    with pytest.raises(ConfigurationError):
        chunk_document(doc("text"), chunk_tokens=chunk_tokens, overlap=overlap)


def test_bare_rules_do_not_become_passages() -> None:
    text = "# Router Guide\n\n---\n\n## Reset\n\nHold the button.\n\n***\n"
    (passage,) = chunk_document(doc(text))
    assert passage.heading_path == ("Reset",)
    assert passage.text == "Hold the button.\n\n***"
