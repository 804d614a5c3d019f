"""Opening a knowledge base by name for the LangChain classes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from grokassist import KnowledgeBase, load_settings


def open_knowledge_base(
    kb: KnowledgeBase | str | None,
    *,
    data_dir: str | None = None,
    sources: Sequence[str] = (),
) -> KnowledgeBase:
    """``kb`` itself, or the knowledge base of that name (the default one for ``None``).

    With ``sources`` (folders, files, ``zendesk://...``, ``https://...``) the knowledge
    base is synced from them first (an incremental sync: cheap when nothing changed);
    without, it must exist already.
    """
    if isinstance(kb, KnowledgeBase):
        if sources:
            kb.ingest(*sources)
        return kb
    overrides: dict[str, Any] = {}
    if data_dir:
        overrides["data_dir"] = data_dir
    if kb:
        overrides["kb"] = kb
    settings = load_settings(**overrides)
    base = KnowledgeBase(settings=settings, create=bool(sources))
    if sources:
        base.ingest(*sources)
    return base
