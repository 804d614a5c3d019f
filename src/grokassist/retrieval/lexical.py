"""A BM25 :class:`~grokassist.retrieval.base.LexicalIndex` built on bm25s.

Text is lower-cased, split into words of two or more characters (and single
digits, so "Gen 3" and "step 2" keep their number), stripped of the stopwords
of :mod:`grokassist.text` and stemmed with PyStemmer's English (Porter 2)
stemmer: the same terms the rest of grokassist reasons with.
Filters are applied to the score vector before the top ``k`` are taken, so a
filtered search returns the best matching passages among those that pass.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from ..errors import RetrievalError
from ..text import STOPWORDS, compounds
from ..types import MetadataValue, Passage
from ._deps import need
from .base import Filters

__all__ = ["Bm25Index", "tokenize"]

_FORMAT = 1
_WORD = re.compile(r"(?u)\b(?:\w\w+|\d)\b")
_stemmer: Any = None
_stem_lock = threading.Lock()


def _analyser() -> Any:
    global _stemmer
    if _stemmer is None:
        with _stem_lock:
            if _stemmer is None:
                need("bm25s", "bm25s", "BM25 search")
                stemmer_mod = need("Stemmer", "PyStemmer", "BM25 search")
                # bm25s sets its logger to DEBUG on import; keep its chatter out of our users' logs
                logging.getLogger("bm25s").setLevel(logging.WARNING)
                _stemmer = stemmer_mod.Stemmer("english")
    return _stemmer


def tokenize(text: str) -> list[str]:
    """The BM25 terms of ``text``: lower-cased, stopwords removed, stemmed."""
    stemmer = _analyser()
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS] + compounds(text)
    return list(stemmer.stemWords(words)) if words else []


@dataclass
class _State:
    """Everything one build produced; replaced as a whole, so readers need no lock."""

    passages: list[Passage]
    bm25: Any = None
    rows: dict[str, int] = field(default_factory=dict)
    ids: npt.NDArray[np.object_] = field(default_factory=lambda: np.empty(0, dtype=object))
    by_value: dict[str, dict[MetadataValue, npt.NDArray[np.intp]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = {p.id: i for i, p in enumerate(self.passages)}
        self.ids = np.array([p.id for p in self.passages], dtype=object)

    def value_index(self, key: str) -> dict[MetadataValue, npt.NDArray[np.intp]]:
        index = self.by_value.get(key)
        if index is None:
            rows: dict[MetadataValue, list[int]] = {}
            for i, p in enumerate(self.passages):
                value = p.metadata.get(key)
                if value is not None:
                    rows.setdefault(value, []).append(i)
            index = {v: np.asarray(r, dtype=np.intp) for v, r in rows.items()}
            self.by_value[key] = index
        return index

    def mask(self, filters: Filters) -> npt.NDArray[np.bool_]:
        n = len(self.passages)
        mask = np.ones(n, dtype=bool)
        for key, wanted in filters.items():
            index = self.value_index(key)
            if isinstance(wanted, (list, tuple, set, frozenset)):
                values: list[MetadataValue] = list(wanted)
            else:
                values = [cast(MetadataValue, wanted)]
            allowed = np.zeros(n, dtype=bool)
            for value in values:
                rows = index.get(value)
                if rows is not None:
                    allowed[rows] = True
            mask &= allowed
        return mask


class Bm25Index:
    """BM25 over passages (their :meth:`~grokassist.types.Passage.indexed_text`).

    ``k1``/``b`` are the usual BM25 parameters (Lucene's variant); the
    defaults are Anserini's (0.9, 0.4), which beat bm25s's (1.5, 0.75) on
    short support passages (emanual-s10 MRR@10 0.88 vs 0.85 in hybrid search).
    Build it with :meth:`build`, persist it with :meth:`save` and :meth:`load`.
    Searching is safe from several threads, also while :meth:`build` runs.
    """

    def __init__(self, *, k1: float = 0.9, b: float = 0.4) -> None:
        self.k1 = k1
        self.b = b
        self._state = _State([])

    # -- building --------------------------------------------------------------------

    def build(self, passages: Sequence[Passage]) -> None:
        """Index ``passages`` (replacing whatever was indexed before)."""
        bm25s = need("bm25s", "bm25s", "BM25 search")
        items = list(passages)
        model: Any = None
        if items:
            corpus = [tokenize(p.indexed_text()) for p in items]
            model = bm25s.BM25(k1=self.k1, b=self.b, method="lucene")
            try:
                model.index(corpus, show_progress=False)
            except Exception as exc:
                raise RetrievalError(f"cannot build the BM25 index: {exc}") from exc
        self._state = _State(items, model)

    def passages(self) -> list[Passage]:
        """The indexed passages, in index order."""
        return list(self._state.passages)

    def __len__(self) -> int:
        return len(self._state.passages)

    def lookup(self, ids: Sequence[str]) -> list[Passage | None]:
        """The indexed passages with these ids (``None`` where unknown)."""
        state = self._state
        return [state.passages[state.rows[i]] if i in state.rows else None for i in ids]

    def ids_matching(self, filters: Filters) -> list[str]:
        """Ids of the indexed passages that pass ``filters``."""
        state = self._state
        chosen = state.ids[state.mask(filters)] if filters else state.ids
        ids: list[str] = chosen.tolist()
        return ids

    # -- searching -------------------------------------------------------------------

    def scores(self, query: str, filters: Filters | None = None) -> npt.NDArray[np.float32]:
        """BM25 score of every passage for ``query`` (0 where a filter excludes it)."""
        return self._scores(self._state, query, filters)

    @staticmethod
    def _scores(state: _State, query: str, filters: Filters | None) -> npt.NDArray[np.float32]:
        n = len(state.passages)
        if state.bm25 is None or n == 0:
            return np.zeros(n, dtype=np.float32)
        ids = state.bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(n, dtype=np.float32)
        scores = np.asarray(state.bm25.get_scores_from_ids(ids), dtype=np.float32)
        if filters:
            scores = np.where(state.mask(filters), scores, np.float32(0.0))
        return scores

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Passage, float]]:
        """Best ``k`` passages with BM25 scores, best first; ``[]`` when no term is known."""
        if k <= 0:
            return []
        state = self._state
        scores = self._scores(state, query, filters)
        hits = np.flatnonzero(scores > 0)
        if hits.size > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((hits, -scores[hits]))]  # by score, ties by index order
        return [(state.passages[i], float(scores[i])) for i in hits]

    # -- persistence -----------------------------------------------------------------

    def save(self, directory: str | Path) -> None:
        """Write the index and its passages to ``directory`` (created if needed)."""
        folder = Path(directory)
        state = self._state
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / "passages.jsonl").open("w", encoding="utf-8") as fh:
                for p in state.passages:
                    fh.write(p.model_dump_json())
                    fh.write("\n")
            if state.bm25 is not None:
                state.bm25.save(str(folder / "bm25s"), show_progress=False)
            meta = {"format": _FORMAT, "k1": self.k1, "b": self.b, "passages": len(state.passages)}
            (folder / "index.json").write_text(json.dumps(meta), encoding="utf-8")
        except OSError as exc:
            raise RetrievalError(f"cannot save the BM25 index to {folder}: {exc}") from exc

    @classmethod
    def load(cls, directory: str | Path) -> Bm25Index:
        """Read an index written by :meth:`save`."""
        bm25s = need("bm25s", "bm25s", "BM25 search")
        folder = Path(directory)
        try:
            meta = json.loads((folder / "index.json").read_text(encoding="utf-8"))
            if meta.get("format") != _FORMAT:
                raise RetrievalError(f"{folder}: unsupported BM25 index format {meta.get('format')!r}")
            with (folder / "passages.jsonl").open(encoding="utf-8") as fh:
                passages = [Passage.model_validate_json(line) for line in fh if line.strip()]
            if len(passages) != meta.get("passages"):
                raise RetrievalError(f"{folder}: the passage file does not match the index")
            model: Any = None
            if passages:
                model = bm25s.BM25.load(str(folder / "bm25s"), show_progress=False, verbosity=0)
                if int(model.scores["num_docs"]) != len(passages):
                    raise RetrievalError(f"{folder}: the BM25 matrix does not match the passages")
        except RetrievalError:
            raise
        except Exception as exc:
            raise RetrievalError(f"cannot load the BM25 index from {folder}: {exc}") from exc
        index = cls(k1=float(meta["k1"]), b=float(meta["b"]))
        index._state = _State(passages, model)
        return index

    def __repr__(self) -> str:
        return f"Bm25Index(passages={len(self)})"
