"""What local backends share when decoding: stop sequences and JSON-schema grammars."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

__all__ = ["StopMatcher", "closed_schema", "schema_shape", "small_int_ranges_as_enums"]


def schema_shape(schema: dict[str, Any]) -> str:
    """A compact, human-readable shape of a JSON schema (the grammar enforces the details)."""
    defs: dict[str, Any] = schema.get("$defs", {}) or schema.get("definitions", {})

    def shape(node: Any, depth: int = 0) -> str:
        if not isinstance(node, dict) or depth > 4:
            return "value"
        ref = node.get("$ref")
        if isinstance(ref, str):
            return shape(defs.get(ref.rsplit("/", 1)[-1], {}), depth + 1)
        if "enum" in node:
            return " | ".join(json.dumps(v) for v in node["enum"])
        if "const" in node:
            return json.dumps(node["const"])
        for key in ("anyOf", "oneOf"):
            if key in node:
                return " | ".join(shape(n, depth + 1) for n in node[key])
        kind = node.get("type")
        if kind == "object" or "properties" in node:
            props = node.get("properties", {})
            return "{" + ", ".join(f'"{k}": {shape(v, depth + 1)}' for k, v in props.items()) + "}"
        if kind == "array":
            return "[" + shape(node.get("items", {}), depth + 1) + ", ...]"
        if isinstance(kind, list):
            return " | ".join(str(k) for k in kind)
        return str(kind or "value")

    return shape(schema)


def closed_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``additionalProperties: false`` on every object that does not say otherwise.

    A grammar built from an open object schema lets a weak model wander into
    invented keys until it runs out of tokens; the result still validates
    against the original schema.
    """

    def close(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: close(value) for key, value in node.items()}
            if "properties" in out and "additionalProperties" not in out:
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [close(item) for item in node]
        return node

    closed: dict[str, Any] = close(schema)
    return closed


def small_int_ranges_as_enums(schema: dict[str, Any], limit: int = 64) -> dict[str, Any]:
    """``schema`` with bounded integers (``minimum``/``maximum``, at most ``limit`` values) as enums.

    llama-cpp-python's schema-to-grammar conversion ignores numeric bounds; an
    enum it does enforce, so a citation number cannot point past the sources.
    """

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: rewrite(value) for key, value in node.items()}
        if out.get("type") == "integer" and "enum" not in out:
            low = out.get("minimum", out.get("exclusiveMinimum"))
            high = out.get("maximum", out.get("exclusiveMaximum"))
            if isinstance(low, (int, float)) and isinstance(high, (int, float)):
                first = int(low) + (1 if "exclusiveMinimum" in out and "minimum" not in out else 0)
                last = int(high) - (1 if "exclusiveMaximum" in out and "maximum" not in out else 0)
                if 0 <= last - first < limit:
                    for key in ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                        out.pop(key, None)
                    out["enum"] = list(range(first, last + 1))
        return out

    rewritten: dict[str, Any] = rewrite(schema)
    return rewritten


class StopMatcher:
    """Streams text while holding back what could be the start of a stop sequence."""

    def __init__(self, stop: Sequence[str]) -> None:
        self.stop = tuple(s for s in stop if s)
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Text that is safe to emit now; sets :attr:`stopped` when a stop sequence appears."""
        if self.stopped:
            return ""
        self._pending += text
        if not self.stop:
            out, self._pending = self._pending, ""
            return out
        cut = min((i for i in (self._pending.find(s) for s in self.stop) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            out, self._pending = self._pending[:cut], ""
            return out
        hold = 0
        for s in self.stop:
            for k in range(min(len(s) - 1, len(self._pending)), 0, -1):
                if self._pending.endswith(s[:k]):
                    hold = max(hold, k)
                    break
        out = self._pending[: len(self._pending) - hold]
        self._pending = self._pending[len(self._pending) - hold :]
        return out

    def flush(self) -> str:
        """What is still held back at the end of the stream."""
        out, self._pending = ("" if self.stopped else self._pending), ""
        return out
