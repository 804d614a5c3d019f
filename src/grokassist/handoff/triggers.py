"""When a conversation goes to a person without being asked (see :class:`HandoffSettings`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..stores.base import Trigger
from ..types import Answer
from .settings import HandoffSettings

__all__ = ["Fired", "after_answer", "before_answer", "failed"]


@dataclass(frozen=True)
class Fired:
    """A trigger that fired, and what fired it (a keyword, a count)."""

    trigger: Trigger
    detail: str = ""


def failed(answer: Answer) -> bool:
    """An answer that did not help: the assistant abstained or its text was withheld."""
    return answer.abstained


def before_answer(question: str, settings: HandoffSettings) -> Fired | None:
    """A keyword trigger: the question has a word starting with a configured keyword."""
    if not settings.keywords:
        return None
    pattern = r"\b(" + "|".join(re.escape(k) for k in settings.keywords) + r")"
    found = re.search(pattern, question.casefold())
    return Fired("keyword", found.group(1)) if found else None


def after_answer(answer: Answer, recent: Sequence[Answer], settings: HandoffSettings) -> Fired | None:
    """The abstention or repeated-failure trigger, given the session's answers newest first
    (``recent`` includes ``answer``)."""
    if not failed(answer):
        return None
    if settings.on_abstain:
        return Fired("abstained")
    n = settings.failed_in_a_row
    if n and len(recent) >= n and all(failed(a) for a in recent[:n]):
        return Fired("repeated_failure", str(n))
    return None
