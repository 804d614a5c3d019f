"""Prompt building and fitting, stop sequences, schemas and the SSE decoder (no model)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from grokassist.backends._prompt import (
    COMPLETION_STOP,
    StopMatcher,
    closed_schema,
    fit_chat_prompt,
    fit_completion_prompt,
    schema_shape,
    small_int_ranges_as_enums,
    trim_text,
)
from grokassist.backends._sse import SSEDecoder
from grokassist.backends.base import ChatRequest
from grokassist.errors import ContextLengthError
from grokassist.types import Message

from .conftest import PASSWORD_PASSAGES, make_request


def words(text: str) -> int:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def long_passage(topic: str, n: int = 40) -> str:
    return " ".join(f"Sentence {i} is filler about {topic}." for i in range(n))


def test_completion_prompt_numbers_sources_and_ends_with_answer() -> None:
    fitted = fit_completion_prompt(make_request(passages=PASSWORD_PASSAGES), words, 10_000)
    text = fitted.text
    assert "[1] Resetting your password\nTo reset your password" in text
    assert "[2] Two-factor authentication" in text
    assert "using only the numbered sources" in text and "[n]" in text
    assert text.endswith("Question: How do I reset my password?\nAnswer:")
    assert fitted.stop == COMPLETION_STOP and "\nQuestion:" in fitted.stop
    assert fitted.passages_kept == 2 and fitted.passages_trimmed == 0


def test_passages_are_trimmed_by_water_filling() -> None:
    short = ("Short", "Tap Reset password in Settings.")
    passages = (short, ("Long A", long_passage("routers")), ("Long B", long_passage("billing")))
    untrimmed = fit_completion_prompt(make_request(passages=passages), words, 10_000).tokens
    fitted = fit_completion_prompt(make_request(passages=passages), words, untrimmed - 200)
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
    bare = fit_completion_prompt(make_request(), words, 10_000).tokens
    fitted = fit_completion_prompt(make_request(passages=passages), words, bare + 60)
    assert fitted.tokens <= bare + 60
    assert 0 < fitted.passages_kept < 5
    assert "[1] T0" in fitted.text and f"[{fitted.passages_kept + 1}]" not in fitted.text


def test_overlong_question_raises_context_length_error() -> None:
    with pytest.raises(ContextLengthError, match="context window"):
        fit_completion_prompt(make_request(question="why " * 500, passages=PASSWORD_PASSAGES), words, 100)


def test_history_goes_before_passages() -> None:
    history = [Message(role="user", content="hello " * 30), Message(role="assistant", content="hi " * 30)]
    base = make_request(passages=PASSWORD_PASSAGES)
    request = base.model_copy(update={"messages": (base.messages[0], *history, base.messages[1])})
    full = fit_completion_prompt(request, words, 10_000)
    assert "Conversation so far:\nCustomer: hello" in full.text
    fitted = fit_completion_prompt(request, words, full.tokens - 20)
    assert fitted.history_dropped >= 1 and fitted.passages_trimmed == 0


def test_json_prompt_has_no_stop_sequences_and_shows_the_shape() -> None:
    schema = {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "integer"}},
        },
    }
    fitted = fit_completion_prompt(make_request(json_schema=schema), words, 10_000)
    assert fitted.stop == ()
    assert '{"answer": string, "sources": [integer, ...]}' in fitted.text
    assert fitted.text.endswith("JSON answer:")


def test_messages_without_grounding_become_a_transcript() -> None:
    request = ChatRequest(
        messages=(Message(role="system", content="Be nice."), Message(role="user", content="Hi!"))
    )
    fitted = fit_completion_prompt(request, words, 10_000)
    assert fitted.text == "Be nice.\n\nCustomer: Hi!\n\nAgent:"


def test_chat_prompt_fitting_trims_passages_inside_the_system_prompt() -> None:
    passages = (("A", long_passage("routers")), ("B", long_passage("billing")))
    request = make_request(passages=passages)

    def render(messages: Sequence[Message]) -> str:
        return "".join(f"<{m.role}>{m.content}" for m in messages)

    full = fit_chat_prompt(request, render, words, 10_000)
    assert full.text.startswith("<system>Answer only from the sources")
    fitted = fit_chat_prompt(request, render, words, full.tokens - 100)
    assert fitted.tokens <= full.tokens - 100 and fitted.passages_trimmed == 2
    assert fitted.text.endswith("<user>How do I reset my password?")
    with pytest.raises(ContextLengthError):
        fit_chat_prompt(make_request(question="why " * 300), render, words, 50)


def test_stop_matcher_holds_back_partial_stops() -> None:
    matcher = StopMatcher(("\nQuestion:",))
    assert matcher.feed("Tap Reset.") == "Tap Reset."
    assert matcher.feed("\nQue") == ""  # might be a stop sequence
    assert matcher.feed("stion: next") == ""
    assert matcher.stopped and matcher.flush() == ""
    matcher = StopMatcher(("\nQuestion:",))
    assert matcher.feed("a\nQ") == "a"
    assert matcher.feed("uick") == "\nQuick"
    assert matcher.feed("\n") == ""
    assert matcher.flush() == "\n"
    assert StopMatcher(()).feed("x") == "x"


def test_closed_schema_and_shape() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/Inner"}, "b": {"enum": ["x", "y"]}},
        "$defs": {"Inner": {"type": "object", "properties": {"c": {"type": "boolean"}}}},
    }
    closed = closed_schema(schema)
    assert closed["additionalProperties"] is False
    assert closed["$defs"]["Inner"]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # not mutated
    assert closed_schema({"type": "object", "properties": {}, "additionalProperties": True})[
        "additionalProperties"
    ]
    assert schema_shape(schema) == '{"a": {"c": boolean}, "b": "x" | "y"}'


def test_sse_decoder() -> None:
    decoder = SSEDecoder()
    lines = [": comment", "event: delta", "id: 7", 'data: {"a":', "data: 1}", "", "data: [DONE]", ""]
    events = [e for e in (decoder.decode(line) for line in lines) if e is not None]
    assert [(e.event, e.id, e.data) for e in events] == [
        ("delta", "7", '{"a":\n1}'),
        ("message", "7", "[DONE]"),
    ]
    decoder.decode("data:tail")
    flushed = decoder.flush()
    assert flushed is not None and flushed.data == "tail"
    assert decoder.flush() is None


def test_small_integer_ranges_become_enums() -> None:
    schema = {
        "type": "object",
        "properties": {
            "citations": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 5}},
            "page": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 3},
            "count": {"type": "integer", "minimum": 0},
            "big": {"type": "integer", "minimum": 0, "maximum": 10_000},
        },
    }
    out = small_int_ranges_as_enums(schema)["properties"]
    assert out["citations"]["items"] == {"enum": [1, 2, 3, 4, 5]}
    assert out["page"] == {"enum": [1, 2]}
    assert out["count"] == {"type": "integer", "minimum": 0}
    assert out["big"]["type"] == "integer"
