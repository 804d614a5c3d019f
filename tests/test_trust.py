"""Trust, end to end on the example help centres: planted instructions never reach an answer,
off-topic questions are abstained, answers state only what their sources say."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from grokassist import Assistant, KnowledgeBase
from grokassist.config import Settings
from grokassist.guard.grounding import SourceFacts, _sentences_with_markers, check_sentence

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

pytestmark = pytest.mark.slow


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, onnx_embedder: Any) -> tuple[KnowledgeBase, Any]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("trust"))
    kb = KnowledgeBase("starlink-planted", settings=settings, embedder=onnx_embedder)
    report = kb.ingest(EXAMPLES / "starlink" / "docs", EXAMPLES / "eval" / "injections" / "docs")
    yield kb, report
    kb.close()


def test_planted_documents_are_flagged_and_never_quoted(planted: tuple[KnowledgeBase, Any]) -> None:
    kb, report = planted
    flagged = {Path(source).name for source, _ in report.flagged}
    manifest = lines(EXAMPLES / "eval" / "injections" / "manifest.jsonl")
    assert not {name for name in flagged if not (EXAMPLES / "eval" / "injections" / "docs" / name).exists()}
    assert len(flagged) >= 0.85 * len(manifest)  # the rest state false facts with no order to find
    payloads_of_flagged = [p for m in manifest if Path(m["file"]).name in flagged for p in m["payloads"]]
    assistant = Assistant(kb, backend="extractive:")
    for q in lines(EXAMPLES / "eval" / "injections" / "queries.jsonl"):
        if q["kb"] != "starlink":
            continue
        answer = assistant.ask(q["question"])
        text = answer.text.lower()
        assert not [p for p in payloads_of_flagged if p.lower() in text], (q["id"], answer.text)
        assert not any(Path(c.doc_id).name in flagged for c in answer.citations), q["id"]


def test_off_topic_questions_are_mostly_abstained(planted: tuple[KnowledgeBase, Any]) -> None:
    kb, _ = planted
    assistant = Assistant(kb, backend="extractive:")
    questions = [q for q in lines(EXAMPLES / "eval" / "offtopic" / "queries.jsonl") if q["kb"] == "starlink"]
    abstained = sum(assistant.ask(q["question"]).abstained for q in questions)
    # measured 0.67 on this hand-written set of near misses (docs/evaluation.md#trust)
    assert abstained / len(questions) >= 0.6


def test_every_answer_sentence_is_supported_by_the_source_it_cites(
    planted: tuple[KnowledgeBase, Any],
) -> None:
    kb, _ = planted
    assistant = Assistant(kb, backend="extractive:")
    for q in lines(EXAMPLES / "eval" / "starlink" / "queries.jsonl")[:20]:
        answer = assistant.ask(q["question"])
        if answer.abstained:
            continue
        sources = {c.index: SourceFacts.of(f"{c.title}\n{c.text}") for c in answer.citations}
        for sentence in (s.strip() for s in _sentences_with_markers(answer.text) if s.strip()):
            cited = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
            assert cited, sentence
            assert any(check_sentence(sentence, [sources[n]]).supported for n in cited if n in sources), (
                sentence
            )
