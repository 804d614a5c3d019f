"""Fitting a grounded prompt to a token budget, in chat and completion form (no model)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from backends.conftest import PASSWORD_PASSAGES, make_request
from grokassist.errors import ContextLengthError
from grokassist.prompting import (
    COMPLETION_STOP,
    Prompt,
    build_prompt,
    fit_prompt,
    fit_request,
    prompt_of,
    trim_text,
)
from grokassist.types import Message


def words(text: str) -> int:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def long_passage(topic: str, n: int = 40) -> str:
    return " ".join(f"Sentence {i} is filler about {topic}." for i in range(n))


def completion(prompt: Prompt) -> str:
    return prompt.completion()


def chat(messages: Sequence[Message]) -> str:
    return "".join(f"<{m.role}>{m.content}" for m in messages)


def test_completion_prompt_numbers_sources_and_ends_with_answer() -> None:
    fitted = fit_request(make_request(passages=PASSWORD_PASSAGES), words, 10_000, render_chat=None)
    text = fitted.text
    assert "[1] Resetting your password\nTo reset your password" in text
    assert "[2] Two-factor authentication" in text
    assert "using only the numbered sources" in text and "[1]" in text
    assert text.endswith("Question: How do I reset my password?\nAnswer:")
    assert fitted.stop == COMPLETION_STOP and "\nQuestion:" in fitted.stop
    assert fitted.passages_kept == 2 and fitted.passages_trimmed == 0


def test_passages_are_trimmed_by_water_filling() -> None:
    short = ("Short", "Tap Reset password in Settings.")
    passages = (short, ("Long A", long_passage("routers")), ("Long B", long_passage("billing")))
    request = make_request(passages=passages)
    untrimmed = fit_request(request, words, 10_000, render_chat=None).tokens
    fitted = fit_request(request, words, untrimmed - 200, render_chat=None)
    assert fitted.tokens <= untrimmed - 200
    assert fitted.passages_kept == 3 and fitted.passages_trimmed == 2
    assert "[1] Short\nTap Reset password in Settings." in fitted.text  # short ones stay whole
    assert "[3] Long B" in fitted.text and "…" in fitted.text


def test_trimming_keeps_the_sentences_about_the_question() -> None:
    text = "Our offices are in Berlin. The router resets when you hold the button. Lunch is at noon."
    trimmed = trim_text(text, 12, words, question="How do I reset the router button?")
    assert "The router resets when you hold the button." in trimmed
    assert "Berlin" not in trimmed and words(trimmed) <= 12
    assert trim_text("one two three four five six", 3, words) == "one two …"
    assert trim_text(text, 0, words) == ""
    assert trim_text(text, 100, words) == text


def test_lowest_ranked_passages_are_dropped_last_resort() -> None:
    passages = tuple((f"T{i}", long_passage(f"topic {i}")) for i in range(5))
    bare = fit_request(make_request(), words, 10_000, render_chat=None).tokens
    fitted = fit_request(make_request(passages=passages), words, bare + 60, render_chat=None)
    assert fitted.tokens <= bare + 60
    assert 0 < fitted.passages_kept < 5
    assert "[1] T0" in fitted.text and f"[{fitted.passages_kept + 1}]" not in fitted.text


def test_overlong_question_raises_context_length_error() -> None:
    request = make_request(question="why " * 500, passages=PASSWORD_PASSAGES)
    with pytest.raises(ContextLengthError, match="context window"):
        fit_request(request, words, 100, render_chat=None)


def test_history_goes_before_passages_a_turn_at_a_time() -> None:
    history = (
        Message(role="user", content="hello " * 30),
        Message(role="assistant", content="hi " * 30),
        Message(role="user", content="again " * 5),
        Message(role="assistant", content="yes " * 5),
    )
    prompt = build_prompt("How do I reset it?", history=history).with_sources(PASSWORD_PASSAGES)
    full = fit_prompt(prompt, completion, words, 10_000, chat=False)
    assert "Conversation so far:\nCustomer: hello" in full.text
    fitted = fit_prompt(prompt, completion, words, full.tokens - 20, chat=False)
    # the oldest question and its answer go together; the sources stay whole
    assert fitted.history_dropped == 1 and fitted.passages_trimmed == 0
    assert "hello" not in fitted.text and "Customer: again" in fitted.text and "Agent: yes" in fitted.text


def test_json_prompt_has_no_stop_sequences_and_shows_the_shape() -> None:
    prompt = build_prompt("How do I reset my password?", json_shape='{"answer": string}')
    fitted = fit_prompt(prompt.with_sources(PASSWORD_PASSAGES), completion, words, 10_000, chat=False)
    assert fitted.stop == ()
    assert '{"answer": string}' in fitted.text
    assert fitted.text.endswith("JSON answer:")
    chat_form = prompt.messages()
    assert '{"answer": string}' in chat_form[0].content  # the same instruction in chat form


def test_messages_without_grounding_become_a_transcript() -> None:
    from grokassist.backends.base import ChatRequest

    request = ChatRequest(
        messages=(Message(role="system", content="Be nice."), Message(role="user", content="Hi!"))
    )
    fitted = fit_request(request, words, 10_000, render_chat=None)
    assert fitted.text == "Be nice.\n\nCustomer: Hi!\n\nAgent:"
    assert fit_request(request, words, 10_000, render_chat=chat).text == "<system>Be nice.<user>Hi!"


def test_chat_prompt_fitting_trims_the_sources() -> None:
    passages = (("A", long_passage("routers")), ("B", long_passage("billing")))
    request = make_request(passages=passages)
    full = fit_request(request, words, 10_000, render_chat=chat)
    assert full.text.startswith("<system>You are a customer-support assistant.")
    fitted = fit_request(request, words, full.tokens - 100, render_chat=chat)
    assert fitted.tokens <= full.tokens - 100 and fitted.passages_trimmed == 2
    assert fitted.text.endswith("Question: How do I reset my password?")
    assert fitted.stop == ()  # a chat template ends its own turns
    with pytest.raises(ContextLengthError):
        fit_request(make_request(question="why " * 300), words, 50, render_chat=chat)


def test_a_custom_system_prompt_reaches_both_forms_and_history_is_not_cut_again() -> None:
    from grokassist.backends.base import ChatRequest

    history = tuple(
        Message(role="user" if i % 2 == 0 else "assistant", content=f"turn {i}") for i in range(12)
    )
    prompt = build_prompt("Where is my invoice?", history=history, instructions="Talk like a pirate.")
    request = ChatRequest(
        messages=prompt.messages(),
        question=prompt.question,
        instructions="Talk like a pirate.",
        history=history,
    )
    parts = prompt_of(request)
    assert parts is not None and parts.instructions == "Talk like a pirate." and len(parts.history) == 12
    text = fit_request(request, words, 10_000, render_chat=None).text
    assert text.startswith("Talk like a pirate.") and "turn 0" in text and "turn 11" in text
    assert fit_request(request, words, 10_000, render_chat=chat).text.startswith(
        "<system>Talk like a pirate."
    )
