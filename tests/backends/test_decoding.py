"""Stop sequences, JSON-schema helpers for grammars, and the SSE decoder (no model)."""

from __future__ import annotations

from grokassist.backends._decoding import StopMatcher, closed_schema, schema_shape, small_int_ranges_as_enums
from grokassist.backends._sse import SSEDecoder


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
