"""KnowledgeBase: a named, persistent index of support documents.

A knowledge base owns one Chroma collection (embedded in its folder, or on a
Chroma server), a BM25 index and a manifest of what was ingested (document id,
content hash, passage ids). :meth:`KnowledgeBase.ingest` is an incremental
sync: new documents are added, changed ones re-embedded, removed ones deleted,
unchanged ones cost nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .config import Settings, load_settings
from .errors import (
    ConfigurationError,
    EmbedderMismatchError,
    IngestionError,
    KnowledgeBaseNotFoundError,
    StoreError,
)
from .guard.injection import FLAG_KEY, scan
from .ingest import chunk_document, load_documents
from .ingest.loaders import real_path
from .retrieval import Bm25Index, ChromaStore, HybridRetriever
from .retrieval.base import Embedder, Filters, VectorStore
from .retrieval.embedders import create_embedder
from .trust import TrustRules, tier_of
from .types import Document, DocumentHit, MetadataValue, Passage, ScoredPassage, SyncReport

if TYPE_CHECKING:
    from .ingest.connectors import Connector

__all__ = ["KnowledgeBase", "KnowledgeBaseStats", "ProgressCallback"]

#: ``progress(stage, done, total)``; stages: "load", "embed", "index".
ProgressCallback = Callable[[str, int, int], None]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_MANIFEST = "manifest.json"
_EMBED_BATCH = 256
#: The model of every knowledge base embedded before the manifest recorded one.
_LEGACY_MODEL = "all-MiniLM-L6-v2-onnx-int8"


class KnowledgeBaseStats(BaseModel):
    """Size and provenance of a knowledge base."""

    model_config = ConfigDict(frozen=True)

    name: str
    documents: int
    passages: int
    path: str
    store: str
    embedder: str
    formats: dict[str, int]
    tiers: dict[str, int] = {}  # documents per trust tier (grokassist.trust)


class _Entry(BaseModel):
    """Manifest record of one ingested document."""

    id: str
    hash: str
    title: str = ""
    source: str = ""
    path: str | None = None
    passages: list[str]
    metadata: dict[str, MetadataValue] = {}
    flagged: str | None = None  # why the document was found to address the assistant


def _validate_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigurationError(
            f"invalid knowledge base name {name!r}: use letters, digits, '.', '_' or '-' (max 63)"
        )
    return name


def _is_under(path: str | None, root: Path) -> bool:
    if not path:
        return False
    try:
        Path(real_path(path)).relative_to(root)
    except ValueError:
        return False
    return True


class KnowledgeBase:
    """A named, persistent, incrementally synced index of support documents.

    >>> kb = KnowledgeBase("starlink")          # doctest: +SKIP
    >>> kb.ingest("examples/starlink/docs")     # doctest: +SKIP
    SyncReport(added=28, ...)
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        create: bool = True,
    ) -> None:
        self.settings = settings or load_settings()
        self.name = _validate_name(name or self.settings.kb)
        self.path = Path(self.settings.data_dir) / "kb" / self.name
        if not create and not (self.path / _MANIFEST).exists():
            raise KnowledgeBaseNotFoundError(
                f"no knowledge base named {self.name!r} in {self.path.parent}; "
                f"create it with: grokassist ingest PATH --kb {self.name}"
            )
        self._embedder = embedder
        self._store = store
        self._lock = threading.RLock()
        self._model: str | None = None  # the model id of the stored vectors, from the manifest
        self._language: str | None = None  # the documents' language, detected on first use
        self._manifest: dict[str, _Entry] = self._read_manifest()
        self._lexical: Bm25Index | None = None
        self._retriever: HybridRetriever | None = None

    # -- components, created lazily ------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            r = self.settings.retrieval
            self._embedder = create_embedder(r.embedder, device=r.device, recorded=self._model)
        return self._embedder

    @property
    def language(self) -> str:
        """The language most of the documents are written in (ISO 639-1; "en" when empty).

        Detected once from up to 200 passages (:func:`grokassist.language.detect`)
        and kept until the next ingest; ``retrieval.documents_language`` overrides it.
        """
        configured = self.settings.retrieval.documents_language
        if configured:
            return configured
        if self._language is None:
            from collections import Counter

            from .language import detection

            passages = self.lexical.passages() if self._manifest else []
            step = max(1, len(passages) // 200)
            votes: Counter[str] = Counter()
            for passage in passages[::step]:
                found = detection(passage.text[:1000])
                if found.reliable:
                    votes[found.language] += 1
            self._language = votes.most_common(1)[0][0] if votes else "en"
        return self._language

    @property
    def embedded_with(self) -> str | None:
        """The model id of the stored vectors (``None``: nothing embedded yet)."""
        return self._model

    def _check_model(self) -> None:
        """Refuse to compare a question's vector with vectors of another model."""
        if self._model is None or not self._manifest:
            return
        current = self.embedder.name
        if current != self._model:
            raise EmbedderMismatchError(
                f"knowledge base {self.name!r} was embedded with {self._model}, but the embedder is now "
                f"{current} (retrieval.embedder = {self.settings.retrieval.embedder!r}); re-embed it with: "
                f"grokassist ingest PATH --kb {self.name} (or KnowledgeBase.reembed()), "
                f"or set retrieval.embedder back"
            )

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            r = self.settings.retrieval
            collection = f"grokassist-{self.name}"
            if r.chroma_host:
                self._store = ChromaStore.http(r.chroma_host, r.chroma_port, collection)
            else:
                self._store = ChromaStore.persistent(self.path / "chroma", collection)
        return self._store

    @property
    def lexical(self) -> Bm25Index:
        with self._lock:
            if self._lexical is None:
                self._lexical = self._load_lexical()
            return self._lexical

    @property
    def retriever(self) -> HybridRetriever:
        with self._lock:
            if self._retriever is None:
                r = self.settings.retrieval
                self._retriever = HybridRetriever(
                    self.embedder, self.store, self.lexical, candidates=r.candidates, rrf_k=r.rrf_k
                )
            return self._retriever

    def warm_up(self) -> None:
        """Load the embedder, store and lexical index now rather than on first use."""
        warm = getattr(self.embedder, "warm_up", None)
        if callable(warm):
            warm()
        _ = self.retriever

    # -- manifest ------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, _Entry]:
        file = self.path / _MANIFEST
        if not file.exists():
            return {}
        try:
            raw = json.loads(file.read_text("utf-8"))
            entries = {d["id"]: _Entry.model_validate(d) for d in raw["documents"]}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(
                f"cannot read the manifest of knowledge base {self.name!r} ({file}): {exc}"
            ) from exc
        # manifests written before the model was recorded hold the only packaged model of then
        self._model = str(raw.get("embedder") or _LEGACY_MODEL) if entries else None
        return entries

    def _write_manifest(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        payload = {
            "version": 1,
            "name": self.name,
            "embedder": self._model,
            "documents": [e.model_dump() for e in self._manifest.values()],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".manifest-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        os.replace(tmp, self.path / _MANIFEST)

    def _load_lexical(self) -> Bm25Index:
        folder = self.path / "bm25"
        if (folder).exists() and not self.settings.retrieval.chroma_host:
            try:
                return Bm25Index.load(folder)
            except Exception:  # a stale or broken index is rebuilt from the store
                pass
        index = Bm25Index()
        passages = self.store.passages() if self._manifest else []
        index.build(passages)
        return index

    # -- ingestion -----------------------------------------------------------------

    def ingest(
        self,
        *sources: str | os.PathLike[str] | Document | Connector,
        metadata: Mapping[str, MetadataValue] | None = None,
        progress: ProgressCallback | None = None,
        delete_missing: bool = True,
        trust: TrustRules | str | Mapping[str, Any] | None = None,
    ) -> SyncReport:
        """Sync documents from folders, files, in-memory :class:`Document` s, help centres and websites.

        A help centre or website is a connector URI (``zendesk://acme``,
        ``freshdesk://acme``, ``confluence://acme.atlassian.net/DOCS``,
        ``intercom://``, ``https://docs.example.com/``) or a
        :class:`~grokassist.ingest.connectors.Connector`. Unchanged documents (same
        content hash, or an HTTP 304) are skipped; changed ones are re-chunked and
        re-embedded; documents that were ingested from one of the given folders or
        sources and are gone from it are deleted (``delete_missing``). Bad files are
        skipped and reported in :attr:`SyncReport.skipped`; nothing already indexed
        is lost because of them, and a source that fails part-way deletes nothing. Documents that address
        the assistant (planted instructions) are indexed with every passage
        flagged, listed in :attr:`SyncReport.flagged`, and never answered from.
        """
        if not sources:
            raise IngestionError("nothing to ingest: give at least one folder, file or document")
        cfg = self.settings.ingest
        known = {doc_id: entry.metadata for doc_id, entry in self._manifest.items()}
        loaded = load_documents(sources, settings=cfg, metadata=metadata, known=known)
        rules = cfg.trust.merged(TrustRules.of(trust))
        documents = [rules.apply(doc) for doc in loaded.documents]
        if progress:
            progress("load", len(documents), len(documents))
        skipped = tuple((e.source, e.reason) for e in loaded.errors)
        hidden = tuple(loaded.hidden)

        with self._lock:
            reembedded = 0
            if self._model is not None and self._manifest and self._model != self.embedder.name:
                reembedded = self.reembed(progress)  # a new model: every stored passage first, then the sync
            added: list[Document] = []
            updated: list[Document] = []
            flagged: list[tuple[str, str]] = []  # (source, reason), changed or not
            community: list[str] = []  # sources of community documents, changed or not
            unchanged = 0
            seen: set[str] = set()
            for doc_id in loaded.unchanged:  # the source answered "not modified"
                if doc_id in self._manifest and doc_id not in seen:
                    seen.add(doc_id)
                    unchanged += 1
                    if tier_of(self._manifest[doc_id].metadata) == "community":
                        community.append(self._manifest[doc_id].source or doc_id)
            for doc in documents:
                if tier_of(doc.metadata) == "community":
                    community.append(doc.source or doc.id)
                if doc.id in seen:
                    skipped += ((doc.source, f"duplicate document id {doc.id!r} (skipped)"),)
                    continue
                seen.add(doc.id)
                entry = self._manifest.get(doc.id)
                if entry is None:
                    added.append(doc)
                elif entry.hash != doc.content_hash:
                    updated.append(doc)
                else:
                    unchanged += 1
                    if entry.flagged:
                        flagged.append((doc.source or doc.id, entry.flagged))

            deleted: list[str] = []
            if delete_missing:
                failed = {real_path(src) for src, _ in skipped if src}
                folders = [r for r in loaded.roots if r.is_dir()]
                origins = set(loaded.origins)
                kept = set(loaded.kept)
                for doc_id, entry in self._manifest.items():
                    if doc_id in seen or doc_id in kept:
                        continue
                    if entry.metadata.get("origin") in origins:
                        deleted.append(doc_id)  # a source listed completely no longer has it
                        continue
                    if entry.path is None or entry.path in failed:
                        continue
                    if any(_is_under(entry.path, root) for root in folders):
                        deleted.append(doc_id)

            changed = added + updated
            if not changed and not deleted:
                if not self._manifest and not documents:
                    raise IngestionError(
                        "no document could be ingested: "
                        + ("; ".join(f"{s}: {r}" for s, r in skipped) or "no supported files found")
                    )
                return SyncReport(
                    unchanged=unchanged,
                    chunks_embedded=reembedded,
                    skipped=skipped,
                    hidden_text=hidden,
                    flagged=tuple(flagged),
                    community=tuple(community),
                )

            # 1. chunk and embed everything new first: a failure here changes nothing.
            passages: list[Passage] = []
            by_doc: dict[str, list[Passage]] = {}
            reasons: dict[str, str] = {}
            for doc in changed:
                pieces = chunk_document(doc, chunk_tokens=cfg.chunk_tokens, overlap=cfg.chunk_overlap)
                fields = " ".join(str(v) for v in doc.metadata.values() if isinstance(v, str))
                finding = scan(f"{doc.title}\n{doc.text}\n{fields}")
                planted = doc.metadata.get(FLAG_KEY)  # the loader found orders in text hidden from readers
                if finding is not None or planted:  # the whole document is untrusted, not only the passage
                    reason = reasons[doc.id] = (finding.reason if finding is not None else str(planted))[:200]
                    flagged.append((doc.source or doc.id, reason))
                    pieces = [
                        p.model_copy(update={"metadata": {**p.metadata, FLAG_KEY: reason}}) for p in pieces
                    ]
                by_doc[doc.id] = pieces
                passages.extend(pieces)
            vectors = self._embed(passages, progress)

            # 2. then swap them into the store and the lexical index.
            stale = [d.id for d in updated] + deleted
            if stale:
                self.store.delete_documents(stale)
            if passages:
                self.store.upsert(passages, vectors)
            for doc_id in deleted:
                self._manifest.pop(doc_id, None)
            self._model = self.embedder.name if self._manifest or changed else None
            for doc in changed:
                path = doc.metadata.get("path")
                self._manifest[doc.id] = _Entry(
                    id=doc.id,
                    hash=doc.content_hash,
                    title=doc.title,
                    source=doc.source,
                    path=real_path(str(path)) if path else None,
                    passages=[p.id for p in by_doc[doc.id]],
                    metadata=dict(doc.metadata),
                    flagged=reasons.get(doc.id),
                )
            self._rebuild_lexical(stale, passages, progress)
            self._write_manifest()
            self._retriever = None
            self._language = None
            return SyncReport(
                added=len(added),
                updated=len(updated),
                deleted=len(deleted),
                unchanged=unchanged,
                chunks_embedded=reembedded + len(passages),
                skipped=skipped,
                hidden_text=hidden,
                flagged=tuple(flagged),
                community=tuple(community),
            )

    def reembed(self, progress: ProgressCallback | None = None) -> int:
        """Embed every stored passage again with the configured embedder; returns how many.

        Used when ``retrieval.embedder`` names another model than the one the
        knowledge base was embedded with: the new vectors are computed first (a
        failure changes nothing), then the collection is emptied and refilled, so
        that vectors of two models never meet in it.
        """
        with self._lock:
            passages = self.lexical.passages() if self._manifest else []
            vectors = self._embed(passages, progress)
            self.store.drop()
            if passages:
                self.store.upsert(passages, vectors)
            self._model = self.embedder.name if passages else None
            self._write_manifest()
            self._retriever = None
            return len(passages)

    def _embed(self, passages: Sequence[Passage], progress: ProgressCallback | None) -> Any:
        import numpy as np

        texts = [p.indexed_text() for p in passages]
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), _EMBED_BATCH):
            parts.append(self.embedder.embed(texts[start : start + _EMBED_BATCH]))
            if progress:
                progress("embed", min(start + _EMBED_BATCH, len(texts)), len(texts))
        return np.concatenate(parts, axis=0)

    def _rebuild_lexical(
        self, stale_docs: Iterable[str], new: Sequence[Passage], progress: ProgressCallback | None
    ) -> None:
        stale = set(stale_docs) | {p.doc_id for p in new}
        keep = [p for p in self.lexical.passages() if p.doc_id not in stale]
        index = Bm25Index()
        index.build([*keep, *new])
        if progress:
            progress("index", len(index), len(index))
        if not self.settings.retrieval.chroma_host:
            folder = self.path / "bm25"
            tmp = self.path / "bm25.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            index.save(tmp)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
        self._lexical = index

    # -- queries -------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        *,
        weights: tuple[float, float] | None = None,
    ) -> list[ScoredPassage]:
        """Best ``k`` passages for ``query`` (hybrid: BM25 + dense, fused; ``weights``: dense, lexical)."""
        if not self._manifest:
            return []
        self._check_model()
        return self.retriever.search(query, k, filters, weights=weights)

    def search_documents(
        self,
        query: str,
        k: int = 5,
        filters: Filters | None = None,
        *,
        weights: tuple[float, float] | None = None,
    ) -> list[DocumentHit]:
        """Best ``k`` documents for ``query``, each with its best passages (``weights``: dense, lexical)."""
        if not self._manifest:
            return []
        self._check_model()
        return self.retriever.search_documents(query, k, filters, weights=weights)

    def get_document(self, doc_id: str) -> Document | None:
        """The stored record of one document (title, source, metadata, its text from disk if any)."""
        entry = self._manifest.get(doc_id)
        if entry is None:
            return None
        text = "\n\n".join(p.text for p in self.lexical.passages() if p.doc_id == doc_id)
        return Document(
            id=entry.id, text=text, title=entry.title, source=entry.source, metadata=entry.metadata
        )

    def tier_counts(self) -> dict[str, int]:
        """How many documents of each trust tier the knowledge base holds."""
        counts: dict[str, int] = {}
        for entry in self._manifest.values():
            tier = tier_of(entry.metadata)
            counts[tier] = counts.get(tier, 0) + 1
        return dict(sorted(counts.items()))

    def documents(self) -> list[str]:
        """Ids of the ingested documents."""
        return sorted(self._manifest)

    def __len__(self) -> int:
        return len(self._manifest)

    def stats(self) -> KnowledgeBaseStats:
        """Counts and where things live."""
        formats: dict[str, int] = {}
        for entry in self._manifest.values():
            fmt = str(entry.metadata.get("format", "other"))
            formats[fmt] = formats.get(fmt, 0) + 1
        r = self.settings.retrieval
        return KnowledgeBaseStats(
            name=self.name,
            documents=len(self._manifest),
            passages=sum(len(e.passages) for e in self._manifest.values()),
            path=str(self.path),
            store=f"chroma-http://{r.chroma_host}:{r.chroma_port}" if r.chroma_host else "chroma-embedded",
            embedder=self._model or self.embedder.name,
            formats=dict(sorted(formats.items())),
            tiers=self.tier_counts(),
        )

    def delete(self) -> None:
        """Delete this knowledge base: its collection, index and manifest."""
        with self._lock:
            if self._manifest or self._store is not None or self.settings.retrieval.chroma_host:
                try:
                    self.store.drop()
                except StoreError:
                    if self.settings.retrieval.chroma_host:
                        raise
            self._store = None
            self._retriever = None
            self._lexical = None
            self._manifest = {}
            self._model = None
            shutil.rmtree(self.path, ignore_errors=True)

    def close(self) -> None:
        """Release the store client."""
        close = getattr(self._store, "close", None)
        if callable(close):
            close()

    @staticmethod
    def list_names(settings: Settings | None = None) -> list[str]:
        """Names of the knowledge bases in the data directory."""
        s = settings or load_settings()
        root = Path(s.data_dir) / "kb"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / _MANIFEST).exists())

    def __repr__(self) -> str:
        return f"KnowledgeBase(name={self.name!r}, documents={len(self._manifest)})"
