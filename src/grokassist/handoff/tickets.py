"""What a ticket says: the whole story of an escalated conversation, built once when it is queued.

The transcript, the sources the assistant cited, its confidence, why it escalated, the host
product's metadata (plan, device, locale...), a one-line subject, a priority and tags; and
the assistant's draft reply with its citations, for the agent as an internal note. With
``redact_personal_data`` on, e-mail addresses, phone numbers, card numbers and IBANs are
redacted from all of it before it leaves the process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from urllib.parse import quote

from ..adapters.ticketing.base import NewTicket
from ..stores.base import Escalation, new_escalation_id
from ..types import Answer, Message
from .settings import HandoffSettings
from .triggers import Fired

__all__ = ["WHY", "build_escalation", "draft_marker"]

#: Why the conversation went to a person, as the ticket says it.
WHY = {
    "requested": "the customer asked for a person",
    "abstained": "the assistant had no confident answer",
    "negative_feedback": "the customer rated an answer as not helpful",
    "repeated_failure": "the assistant failed to answer {detail} times in a row",
    "keyword": "the customer mentioned “{detail}”",
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SUBJECT_CHARS = 120


def draft_marker(escalation_id: str) -> str:
    """The line that ends the draft note, by which a repeated delivery finds it already posted."""
    return f"(grokassist draft for {escalation_id})"


def _speaker(message: Message) -> str:
    if message.role == "user":
        return "Customer"
    return f"Agent ({message.author})" if message.author else "Assistant"


def _sources(answers: Sequence[Answer], sources_url: str) -> list[str]:
    lines, seen = [], set()
    for answer in answers:
        for c in answer.citations:
            if c.doc_id in seen:
                continue
            seen.add(c.doc_id)
            where = c.source or (
                sources_url.rstrip("/") + "/" + quote(c.doc_id, safe="/") if sources_url else ""
            )
            lines.append(f"- {c.title or c.doc_id} ({c.doc_id})" + (f": {where}" if where else ""))
    return lines


def _draft(answers: Sequence[Answer], escalation_id: str, sources_url: str) -> str:
    usable = next((a for a in answers if not a.abstained and a.text.strip()), None)
    if usable is None:
        return ""
    lines = [
        f"Draft reply from the assistant (confidence {usable.confidence:.2f}); check it before sending.",
        "",
        f"Question: {usable.question}",
        "",
        usable.text.strip(),
    ]
    sources = _sources([usable], sources_url)
    if sources:
        lines += ["", "Sources:", *sources]
    return "\n".join([*lines, "", draft_marker(escalation_id)])


def _section(title: str, lines: Sequence[str]) -> list[str]:
    return ["", title, "-" * len(title), *lines] if lines else []


def build_escalation(
    *,
    client: str,
    transcript: Sequence[Message],
    answers: Sequence[Answer],
    fired: Fired,
    settings: HandoffSettings,
    session_id: str | None = None,
    answer_id: str | None = None,
    reason: str = "",
    contact: str = "",
    metadata: dict[str, str] | None = None,
    sources_url: str = "",
    redact: Callable[[str], str] | None = None,
) -> Escalation:
    """The escalation to queue: its ticket and draft note, redacted with ``redact`` (if given).

    ``answers`` are the session's answers, newest first (the confidence, the cited sources and
    the draft come from them); ``sources_url`` is where this server serves cited articles.
    """
    escalation_id = new_escalation_id()
    clean = redact or (lambda text: text)
    metadata = {str(k): clean(str(v)) for k, v in (metadata or {}).items()}
    why = WHY[fired.trigger].format(detail=fired.detail)
    questions = [m.content for m in transcript if m.role == "user"]
    topic = " ".join((questions[-1] if questions else reason or "a conversation").split())
    if len(topic) > _SUBJECT_CHARS:
        topic = topic[: _SUBJECT_CHARS - 1].rstrip() + "…"
    subject = f"{why[0].upper()}{why[1:]}: {topic}"

    latest = answers[0] if answers else None
    summary = [f"Escalated by grokassist because {why}."]
    if reason:
        summary.append(f"The customer wrote: {reason}")
    summary.append(
        f"Contact: {contact}" if contact else "Contact: none given; public replies reach the chat."
    )
    if latest is not None:
        state = "abstained" if latest.abstained else "answered"
        summary.append(f"Assistant's confidence in its last answer: {latest.confidence:.2f} ({state}).")
    body = [
        *summary,
        *_section("Conversation", [f"{_speaker(m)}: {m.content}" for m in transcript]),
        *_section("Sources the assistant cited", _sources(answers, sources_url)),
        *_section("Host product", [f"{k}: {v}" for k, v in sorted(metadata.items())]),
        "",
        f"Reference: {escalation_id}",
    ]
    draft = _draft(answers, escalation_id, sources_url) if settings.post_draft else ""
    tags = [*settings.tags, "grokassist-" + fired.trigger.replace("_", "-")]
    ticket = NewTicket(
        external_id=escalation_id,
        subject=clean(subject)[:250],
        body=clean("\n".join(body)),
        requester_email=contact if _EMAIL.match(contact) else None,
        priority=settings.priorities.get(fired.trigger, "normal"),
        tags=tuple(dict.fromkeys(tags)),
        metadata=metadata,
    )
    now = time.time()
    return Escalation(
        id=escalation_id,
        created=now,
        client=client,
        session_id=session_id,
        answer_id=answer_id,
        trigger=fired.trigger,
        reason=reason,
        contact=contact,
        transcript=list(transcript),
        ticket=ticket,
        draft=clean(draft),
        due=now,
    )
