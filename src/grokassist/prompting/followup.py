"""Follow-up questions made standalone for retrieval."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..text import content_terms
from ..types import Message

__all__ = ["rewrite_followup"]

_FOLLOWUP_START = re.compile(
    r"^\s*(and|also|or|but|what about|how about|same|what if|then|so|ok|okay"
    r"|and if|and for|and the|for the)\b",
    re.I,
)
_ANAPHORA = re.compile(r"\b(it|that|this|those|these|they|them|there|same|older|newer|other)\b", re.I)


def rewrite_followup(question: str, history: Sequence[Message]) -> str:
    """Make a follow-up question standalone for retrieval.

    "and for the older router?" after "How do I factory reset my router?" becomes
    "and for the older router? (How do I factory reset my router?)". A question
    that already stands on its own is returned unchanged.
    """
    previous = [m.content for m in history if m.role == "user"]
    if not previous:
        return question
    terms = content_terms(question)
    short = len(terms) <= 4
    if not (short or _FOLLOWUP_START.search(question) or (_ANAPHORA.search(question) and len(terms) <= 5)):
        return question
    return f"{question} ({previous[-1]})"
