"""The one prompt path: instructions, numbered sources, history and question, fitted and rendered.

The assistant describes a grounded prompt once (:class:`Prompt`, carried by a
:class:`~grokassist.types.ChatRequest` as ``instructions``, ``passages``,
``history`` and ``question``); every backend renders it from there: chat
models and OpenAI-compatible APIs as messages (:meth:`Prompt.messages`, which is
also ``ChatRequest.messages``), base models as completion text
(:meth:`Prompt.completion`), local models fitted to their context first
(:func:`fit_prompt`). A custom system prompt therefore reaches every backend,
and the history length is the assistant's setting alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..trust import tier_of
from ..types import ChatRequest, Message, Passage, ScoredPassage
from .citations import extract_citations, group_by_document, support_shares, verify_citations
from .fitting import CountTokens, FittedPrompt, fit_prompt, fit_transcript, trim_text
from .followup import rewrite_followup
from .instructions import DEFAULT_SYSTEM_PROMPT, JSON_INSTRUCTION
from .render import COMPLETION_STOP, SOURCES_HEADER, TRANSCRIPT_STOP, Prompt, format_sources, transcript

__all__ = [
    "COMPLETION_STOP",
    "DEFAULT_SYSTEM_PROMPT",
    "JSON_INSTRUCTION",
    "SOURCES_HEADER",
    "TRANSCRIPT_STOP",
    "CountTokens",
    "FittedPrompt",
    "Prompt",
    "build_prompt",
    "extract_citations",
    "fit_prompt",
    "fit_request",
    "fit_transcript",
    "format_sources",
    "group_by_document",
    "prompt_of",
    "rewrite_followup",
    "source_heading",
    "support_shares",
    "transcript",
    "trim_text",
    "verify_citations",
]


def source_heading(passage: Passage) -> str:
    """A source's heading in a prompt: its title and heading path ("Billing > Invoices"), and, for a
    source that is not an official article (:mod:`grokassist.trust`), its tier: "(live)" (its title
    carries its time) or "(community post: unverified, never state it as fact)".

    Official articles, the norm, carry no label: the sources' header already says they are quoted
    from the help centre, and labelling each of them cost the packaged model facts (measured on 30
    Starlink questions: fact accuracy 0.23 with an "(official)" label on every source, 0.31 without;
    docs/live-data.md).
    """
    heading = passage.heading()
    tier = tier_of(passage)
    if tier == "official":
        return heading
    label = _TIER_LABELS[tier]
    return f"{heading} ({label})" if heading else f"({label})"


_TIER_LABELS = {
    "live": "live",
    "community": "community post: unverified, never state it as fact",
}


def build_prompt(
    question: str,
    passages: tuple[ScoredPassage, ...] | list[ScoredPassage] = (),
    history: tuple[Message, ...] | list[Message] = (),
    *,
    instructions: str = DEFAULT_SYSTEM_PROMPT,
    json_shape: str | None = None,
    language: str = "",
) -> Prompt:
    """The :class:`Prompt` for a question over retrieved passages (``[i+1]`` is ``passages[i]``);
    ``language``: answer in it (the question's, when the sources are in another)."""
    return Prompt(
        question=question,
        sources=tuple((source_heading(sp.passage), sp.passage.text) for sp in passages),
        history=tuple(history),
        instructions=instructions,
        json_shape=json_shape,
        language=language,
    )


def prompt_of(request: ChatRequest, *, json_shape: str | None = None) -> Prompt | None:
    """The grounded prompt a request describes, or ``None`` for a plain conversation.

    A request built by the assistant carries its parts; one built by hand with
    only ``messages``, ``question`` and ``passages`` gets the default
    instructions and the turns before its last user message as history.
    """
    if not request.passages and not request.question:
        return None
    question = request.question
    history = tuple(request.history)
    if not request.instructions and not history:
        turns = [m for m in request.messages if m.role != "system"]
        if turns and turns[-1].role == "user":
            question = question or turns[-1].content
            turns = turns[:-1]
        history = tuple(turns)
    return build_prompt(
        question,
        request.passages,
        history,
        instructions=request.instructions or DEFAULT_SYSTEM_PROMPT,
        json_shape=json_shape,
        language=request.language,
    )


def fit_request(
    request: ChatRequest,
    count: CountTokens,
    budget: int,
    *,
    render_chat: Callable[[Sequence[Message]], str] | None,
    json_shape: str | None = None,
) -> FittedPrompt:
    """A local model's prompt for ``request``, fitted to ``budget`` tokens.

    ``render_chat`` is the model's chat template (``None``: completion form).
    """
    prompt = prompt_of(request, json_shape=json_shape)
    if prompt is None:  # a plain conversation, no grounding
        return fit_transcript(request.messages, render_chat, count, budget)
    if render_chat is not None:
        template = render_chat
        return fit_prompt(prompt, lambda p: template(p.messages()), count, budget, chat=True)
    return fit_prompt(prompt, lambda p: p.completion(), count, budget, chat=False)
