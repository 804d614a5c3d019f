"""A :class:`~grokassist.retrieval.base.VectorStore` over Chroma.

One Chroma collection per knowledge base, in cosine space. grokassist embeds
passages itself, so the collection has no embedding function and Chroma never
loads (or downloads) its default model.

Each record's metadata holds the passage fields under reserved ``ga_`` keys
(``ga_doc_id``, ``ga_title``, ``ga_source``, ``ga_heading_path`` as JSON,
``ga_position``) next to the document's own metadata keys, unchanged, so that
filters map onto Chroma's ``where``: ``{"product": "router"}`` becomes
``{"product": {"$eq": "router"}}``, a list value becomes ``$in`` and several
keys are joined with ``$and``.

Every chromadb or HTTP error leaves this module as :class:`StoreError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import StoreError
from ..types import MetadataValue, Passage
from ._deps import need
from .base import Filters, Vectors

__all__ = ["ChromaStore", "filters_to_where"]

_RESERVED = "ga_"
_PAGE = 1000
_DELETE_CHUNK = 500


def filters_to_where(filters: Filters | None) -> dict[str, Any] | None:
    """Translate grokassist filters into a Chroma ``where`` clause (``None``: no filter)."""
    if not filters:
        return None
    clauses: list[dict[str, Any]] = []
    for key, wanted in filters.items():
        if isinstance(wanted, (list, tuple, set, frozenset)):
            clauses.append({key: {"$in": list(wanted)}})
        else:
            clauses.append({key: {"$eq": wanted}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _empty_choice(filters: Filters | None) -> bool:
    """Whether a filter lists no acceptable value for some key (so nothing matches)."""
    return bool(filters) and any(
        isinstance(v, (list, tuple, set, frozenset)) and not v for v in (filters or {}).values()
    )


def _to_metadata(passage: Passage) -> dict[str, MetadataValue]:
    reserved = [key for key in passage.metadata if key.startswith(_RESERVED)]
    if reserved:
        raise StoreError(
            f"passage {passage.id!r}: metadata keys starting with {_RESERVED!r} are reserved: {reserved}"
        )
    return {
        **passage.metadata,
        "ga_doc_id": passage.doc_id,
        "ga_title": passage.title,
        "ga_source": passage.source,
        "ga_heading_path": json.dumps(list(passage.heading_path), ensure_ascii=False),
        "ga_position": passage.position,
    }


def _to_passage(pid: str, text: str | None, metadata: Mapping[str, Any] | None) -> Passage:
    meta = dict(metadata or {})
    heading = meta.pop("ga_heading_path", "[]")
    try:
        heading_path = tuple(str(h) for h in json.loads(heading)) if isinstance(heading, str) else ()
    except ValueError:
        heading_path = ()
    return Passage(
        id=pid,
        doc_id=str(meta.pop("ga_doc_id", "")),
        text=text or "",
        title=str(meta.pop("ga_title", "")),
        source=str(meta.pop("ga_source", "")),
        heading_path=heading_path,
        position=int(meta.pop("ga_position", 0)),
        metadata={k: v for k, v in meta.items() if not k.startswith(_RESERVED)},
    )


class ChromaStore:
    """Passages and their vectors in one Chroma collection (cosine space).

    Use :meth:`persistent` for the embedded store in a folder (the default),
    :meth:`http` for a shared Chroma server, or pass any chromadb client.
    """

    def __init__(
        self, client: Any, collection: str, *, where: str = "chroma", owns_client: bool = False
    ) -> None:
        self.client = client
        self.collection_name = collection
        #: Where the store lives, for error messages (a folder or ``host:port``).
        self.where = where
        self._owns_client = owns_client
        self._collection: Any = None
        self._max_batch: int | None = None

    # -- constructors ----------------------------------------------------------------

    @classmethod
    def persistent(cls, path: str | Path, collection: str) -> ChromaStore:
        """The embedded store, persisted in the folder ``path``."""
        chromadb = need("chromadb", "chromadb", "the Chroma vector store")
        from chromadb.config import Settings

        folder = Path(path).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(folder), settings=Settings(anonymized_telemetry=False, allow_reset=False)
            )
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store in {folder}: {exc}") from exc
        return cls(client, collection, where=str(folder), owns_client=True)

    @classmethod
    def http(
        cls,
        host: str,
        port: int = 8000,
        collection: str = "grokassist",
        *,
        ssl: bool = False,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
    ) -> ChromaStore:
        """A collection on a Chroma server (``chroma run``); fails fast if it is down."""
        chromadb = need("chromadb", "chromadb", "the Chroma vector store")
        import httpx
        from chromadb.config import Settings

        where = f"{'https' if ssl else 'http'}://{host}:{port}"
        # chromadb's HTTP client waits forever; check the server with a bounded request first.
        try:
            httpx.get(f"{where}/api/v2/heartbeat", timeout=min(timeout, 5.0), headers=dict(headers or {}))
        except httpx.HTTPError as exc:
            raise StoreError(f"the Chroma server at {where} is unreachable: {exc}") from exc
        try:
            client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                headers=dict(headers or {}),
                settings=Settings(anonymized_telemetry=False),
            )
        except Exception as exc:
            raise StoreError(f"cannot connect to the Chroma server at {where}: {exc}") from exc
        session = getattr(getattr(client, "_server", None), "_session", None)
        if isinstance(session, httpx.Client):  # give every later request a deadline too
            session.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        return cls(client, collection, where=where, owns_client=True)

    # -- plumbing --------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:  # chromadb, httpx and validation errors alike
            raise StoreError(
                f"Chroma store {self.where} (collection {self.collection_name!r}): cannot {action}: {exc}"
            ) from exc

    def _col(self) -> Any:
        if self._collection is None:
            with self._errors("open the collection"):
                self._collection = self.client.get_or_create_collection(
                    self.collection_name,
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
        return self._collection

    def _batch_size(self) -> int:
        if self._max_batch is None:
            with self._errors("read the maximum batch size"):
                size = int(self.client.get_max_batch_size())
            self._max_batch = max(1, min(size if size > 0 else 1000, 5000))
        return self._max_batch

    # -- VectorStore -----------------------------------------------------------------

    def upsert(self, passages: Sequence[Passage], vectors: Vectors) -> None:
        """Insert or replace passages with their vectors (one row per passage)."""
        array = np.asarray(vectors, dtype=np.float32)
        if array.ndim != 2 or array.shape[0] != len(passages):
            raise StoreError(f"upsert needs one vector per passage: {len(passages)} passages, {array.shape}")
        if not passages:
            return
        last = {p.id: i for i, p in enumerate(passages)}  # duplicates: the last one wins
        keep = sorted(last.values())
        col = self._col()
        step = self._batch_size()
        for start in range(0, len(keep), step):
            rows = keep[start : start + step]
            with self._errors(f"upsert {len(rows)} passages"):
                col.upsert(
                    ids=[passages[i].id for i in rows],
                    embeddings=array[rows],
                    documents=[passages[i].text for i in rows],
                    metadatas=[_to_metadata(passages[i]) for i in rows],
                )

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        """Delete every passage of the given documents."""
        ids = sorted(set(doc_ids))
        col = self._col()
        for start in range(0, len(ids), _DELETE_CHUNK):
            chunk = ids[start : start + _DELETE_CHUNK]
            with self._errors(f"delete {len(chunk)} documents"):
                col.delete(where={"ga_doc_id": {"$in": chunk}})

    def query(self, vector: Vectors, k: int, filters: Filters | None = None) -> list[tuple[Passage, float]]:
        """Best ``k`` passages by cosine similarity (``1 - distance``), best first."""
        if k <= 0 or _empty_choice(filters):
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        with self._errors("query"):
            result = self._col().query(
                query_embeddings=query,
                n_results=k,
                where=filters_to_where(filters),
                include=["documents", "metadatas", "distances"],
            )
        ids = result["ids"][0]
        docs = (result.get("documents") or [[None] * len(ids)])[0]
        metas = (result.get("metadatas") or [[None] * len(ids)])[0]
        dists = (result.get("distances") or [[math.nan] * len(ids)])[0]
        return [
            (_to_passage(pid, doc, meta), 1.0 - float(dist))
            for pid, doc, meta, dist in zip(ids, docs, metas, dists, strict=True)
        ]

    def query_ids(
        self,
        vector: Vectors,
        k: int,
        filters: Filters | None = None,
        *,
        within: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Like :meth:`query` but only ids and similarities, optionally among the ids ``within``.

        Fetching documents and metadata costs Chroma about 0.2 ms per result,
        several times the nearest-neighbour search itself, and a metadata
        ``where`` scans every record; the retriever uses this (with ``within``
        computed from its in-memory lexical index) when that index holds the
        passages.
        """
        if k <= 0 or _empty_choice(filters) or (within is not None and not within):
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        with self._errors("query"):
            result = self._col().query(
                query_embeddings=query,
                n_results=k,
                where=filters_to_where(filters),
                ids=list(within) if within is not None else None,
                include=["distances"],
            )
        ids, distances = result["ids"][0], result["distances"][0]
        return [(pid, 1.0 - float(dist)) for pid, dist in zip(ids, distances, strict=True)]

    def get(self, ids: Sequence[str]) -> list[Passage]:
        """The stored passages with these ids, in that order (missing ones are left out)."""
        if not ids:
            return []
        with self._errors("get passages"):
            result = self._col().get(ids=list(dict.fromkeys(ids)), include=["documents", "metadatas"])
        found = {
            pid: _to_passage(pid, doc, meta)
            for pid, doc, meta in zip(result["ids"], result["documents"], result["metadatas"], strict=True)
        }
        return [found[pid] for pid in dict.fromkeys(ids) if pid in found]

    def passages(self) -> list[Passage]:
        """Every stored passage, read page by page."""
        col = self._col()
        out: list[Passage] = []
        offset = 0
        while True:
            with self._errors("list passages"):
                page = col.get(limit=_PAGE, offset=offset, include=["documents", "metadatas"])
            ids = page["ids"]
            out.extend(
                _to_passage(pid, doc, meta)
                for pid, doc, meta in zip(ids, page["documents"], page["metadatas"], strict=True)
            )
            if len(ids) < _PAGE:
                return out
            offset += len(ids)

    def count(self) -> int:
        """Number of stored passages."""
        with self._errors("count passages"):
            return int(self._col().count())

    def drop(self) -> None:
        """Delete the collection and everything in it (a later write creates it again)."""
        with self._errors("drop the collection"):
            names = self.list_collections()
            if self.collection_name in names:
                self.client.delete_collection(self.collection_name)
        self._collection = None

    # -- extras ----------------------------------------------------------------------

    def list_collections(self) -> list[str]:
        """Names of all collections on this client, sorted."""
        with self._errors("list collections"):
            found = self.client.list_collections()
        return sorted(c if isinstance(c, str) else str(c.name) for c in found)

    def close(self) -> None:
        """Release the client if this store created it."""
        self._collection = None
        if self._owns_client:
            close = getattr(self.client, "close", None)
            if callable(close):
                with self._errors("close the client"):
                    close()
            self._owns_client = False

    def __enter__(self) -> ChromaStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ChromaStore({self.where!r}, collection={self.collection_name!r})"
