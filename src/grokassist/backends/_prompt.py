"""Prompts for local models, fitted to a token budget.

Base models (like the packaged Gemma 3 270M) get a completion-style grounded
prompt built from ``request.question`` and ``request.passages``: numbered
sources, an instruction to answer only from them citing ``[n]``, then
``Question: ...`` / ``Answer:``, with stop sequences. Chat models get the
request's messages through their chat template.

Either way the prompt is made to fit: older conversation turns go first, then
passages are trimmed by token count (water-filling: short passages stay whole,
long ones are cut to an equal share, keeping the sentences that share the
most words with the question), then the lowest-ranked passages are dropped.
Passage ``i`` keeps its number ``[i+1]`` because only a suffix is ever
dropped. If the question alone cannot fit, :class:`ContextLengthError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ContextLengthError
from ..types import Message
from .base import ChatRequest

__all__ = [
    "COMPLETION_STOP",
    "FittedPrompt",
    "StopMatcher",
    "closed_schema",
    "fit_chat_prompt",
    "fit_completion_prompt",
    "schema_shape",
    "small_int_ranges_as_enums",
    "trim_text",
]

CountTokens = Callable[[str], int]

INSTRUCTION = (
    "Answer the customer's question using only the numbered sources below. "
    "Cite every source you use as [n]. If the sources do not answer the question, "
    "say that you do not know."
)
JSON_INSTRUCTION = "Reply with one JSON object of this shape: {shape}"
#: Stop sequences for completion-style prompts on base models.
COMPLETION_STOP: tuple[str, ...] = ("\nQuestion:", "\n\n\n", "\nSources:", "<end_of_turn>", "<eos>")
TRANSCRIPT_STOP: tuple[str, ...] = ("\nCustomer:", "\n\n\n", "<end_of_turn>", "<eos>")
MIN_PASSAGE_TOKENS = 24
HISTORY_TURNS = 4

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "my",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    }
)


@dataclass
class FittedPrompt:
    """A prompt that fits the budget, and what was cut to make it fit."""

    text: str
    tokens: int
    stop: tuple[str, ...] = ()
    passages_kept: int = 0
    passages_trimmed: int = 0
    history_dropped: int = 0
    notes: list[str] = field(default_factory=list)


def _terms(text: str) -> set[str]:
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in _STOPWORDS and len(w) > 1}


def _truncate(text: str, max_tokens: int, count: CountTokens) -> str:
    """The longest word-boundary prefix of ``text`` within ``max_tokens`` (binary search)."""
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count(" ".join(words[:mid]) + " …") <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return (" ".join(words[:lo]) + " …") if lo else ""


def trim_text(
    text: str, max_tokens: int, count: CountTokens, question: str = "", *, tokens: int | None = None
) -> str:
    """``text`` cut to ``max_tokens``, keeping the sentences most related to ``question``, in order.

    Sentences are chosen on token counts estimated from their share of the
    characters (tokenizing is the costly part), then the result is counted
    once and, while it is over, its least related sentence goes. ``tokens``
    is ``count(text)`` if the caller knows it.
    """
    if max_tokens <= 0:
        return ""
    total = count(text) if tokens is None else tokens
    if total <= max_tokens:
        return text
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    if len(sentences) <= 1:
        return _truncate(text, max_tokens, count)
    wanted = _terms(question)
    overlap = [len(_terms(sentence) & wanted) for sentence in sentences]
    # earlier sentences win ties (they usually state the topic); fragments go only if on topic
    ranked = sorted(
        (i for i, sentence in enumerate(sentences) if overlap[i] or len(sentence.split()) >= 4),
        key=lambda i: (-overlap[i], i),
    )
    if not ranked:
        return _truncate(text, max_tokens, count)
    per_char = total / max(len(text), 1)
    chosen: list[int] = []
    used = 0.0
    for index in ranked:
        cost = len(sentences[index]) * per_char + 2  # the join and a possible "…"
        if used + cost <= max_tokens:
            chosen.append(index)
            used += cost
    while chosen:
        joined = _join_sentences(sentences, sorted(chosen))
        if count(joined) <= max_tokens:
            return joined
        chosen.pop()  # the least related of those chosen
    return _truncate(sentences[ranked[0]], max_tokens, count)


def _join_sentences(sentences: Sequence[str], indices: Sequence[int]) -> str:
    parts: list[str] = []
    previous = -1
    for index in indices:
        if index != previous + 1:
            parts.append("…")
        parts.append(sentences[index].strip())
        previous = index
    if previous != len(sentences) - 1:
        parts.append("…")
    return " ".join(parts)


def _water_fill(costs: Sequence[int], available: int) -> int | None:
    """The largest equal cap so that ``sum(min(c, cap)) <= available`` (None: no cap needed)."""
    if sum(costs) <= available:
        return None
    lo, hi = 0, max(costs)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(c, mid) for c in costs) <= available:
            lo = mid
        else:
            hi = mid - 1
    return lo


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


def _history(request: ChatRequest) -> list[Message]:
    """Conversation turns before the final question (system messages excluded)."""
    turns = [m for m in request.messages if m.role != "system"]
    if turns and turns[-1].role == "user":
        turns = turns[:-1]
    return turns[-HISTORY_TURNS:]


def _question(request: ChatRequest) -> str:
    if request.question:
        return request.question
    for message in reversed(request.messages):
        if message.role == "user":
            return message.content
    return ""


def _render_completion(
    question: str,
    sources: Sequence[tuple[str, str]],
    history: Sequence[Message],
    json_shape: str | None,
) -> str:
    parts = [INSTRUCTION]
    if json_shape:
        parts.append(JSON_INSTRUCTION.format(shape=json_shape))
    if sources:
        blocks = [
            f"[{i + 1}] {title}\n{text}".strip() if title else f"[{i + 1}] {text}"
            for i, (title, text) in enumerate(sources)
        ]
        parts.append("Sources:\n\n" + "\n\n".join(blocks))
    if history:
        lines = [f"{'Customer' if m.role == 'user' else 'Agent'}: {m.content}" for m in history]
        parts.append("Conversation so far:\n" + "\n".join(lines))
    label = "JSON answer:" if json_shape else "Answer:"
    parts.append(f"Question: {question}\n{label}")
    return "\n\n".join(parts)


def _render_transcript(messages: Sequence[Message]) -> str:
    names = {"system": "", "user": "Customer: ", "assistant": "Agent: "}
    lines = [f"{names[m.role]}{m.content}" for m in messages]
    return "\n\n".join(lines) + "\n\nAgent:"


def fit_completion_prompt(request: ChatRequest, count: CountTokens, budget: int) -> FittedPrompt:
    """A completion-style grounded prompt of at most ``budget`` tokens."""
    settings = request.settings
    json_shape = schema_shape(settings.json_schema) if settings.json_schema is not None else None
    stop = () if json_shape else COMPLETION_STOP
    question = _question(request)
    if not request.passages and not request.question:
        # no grounding at all: continue the conversation as a transcript
        messages = list(request.messages)
        dropped = 0
        while True:
            text = _render_transcript(messages)
            tokens = count(text)
            if tokens <= budget:
                return FittedPrompt(text, tokens, TRANSCRIPT_STOP, history_dropped=dropped)
            removable = [i for i, m in enumerate(messages[:-1]) if m.role != "system"]
            if not removable:
                raise _too_long(tokens, budget)
            del messages[removable[0]]
            dropped += 1
    sources = [(sp.passage.title, sp.passage.text) for sp in request.passages]
    history = _history(request)
    dropped = 0
    # older turns go before any passage is trimmed
    while history and count(_render_completion(question, sources, history, json_shape)) > budget:
        history = history[1:]
        dropped += 1
    fixed = count(_render_completion(question, [], history, json_shape))
    if fixed > budget:
        raise _too_long(fixed, budget)
    fitted = _fit_sources(
        sources, question, count, budget, lambda s: _render_completion(question, s, history, json_shape)
    )
    fitted.stop = stop
    fitted.history_dropped = dropped
    return fitted


def _fit_sources(
    sources: list[tuple[str, str]],
    question: str,
    count: CountTokens,
    budget: int,
    render: Callable[[list[tuple[str, str]]], str],
) -> FittedPrompt:
    """Trim, then drop (lowest rank first) sources until ``render(sources)`` fits ``budget``."""
    kept = len(sources)
    while True:
        current = sources[:kept]
        text = render(current)
        tokens = count(text)
        if tokens <= budget:
            notes = [f"{len(sources) - kept} lowest-ranked passages dropped"] if kept < len(sources) else []
            return FittedPrompt(text, tokens, passages_kept=kept, notes=notes)
        if not current:
            raise _too_long(tokens, budget)
        costs = [count(body) for _, body in current]
        # what the bodies may take in all, with slack for token merges at the seams
        cap = _water_fill(costs, sum(costs) - (tokens - budget) - 2 * kept)
        best: FittedPrompt | None = None
        fits, overflows = 0, 0  # the largest cap known to fit, the smallest known not to
        for _ in range(5):  # trimming works on estimates: search the cap a few steps
            if cap is None or cap < MIN_PASSAGE_TOKENS:
                break
            trimmed = [
                (title, trim_text(body, cap, count, question, tokens=cost))
                for (title, body), cost in zip(current, costs, strict=True)
            ]
            text = render(trimmed)
            tokens = count(text)
            cut = sum(1 for c in costs if c > cap)
            if tokens > budget:
                overflows = cap
                cap = (fits + cap) // 2 if best is not None else cap - (tokens - budget) // kept - 1
            else:
                fits = cap
                if best is None or tokens > best.tokens:
                    best = FittedPrompt(text, tokens, passages_kept=kept, passages_trimmed=cut)
                    best.notes = [f"passages trimmed to at most {cap} tokens each"]
                slack = budget - tokens
                if slack <= max(4, budget // 25) or not cut:
                    break
                cap = (cap + overflows) // 2 if overflows else cap + slack // cut
            if overflows and overflows - fits <= 2:
                break
        if best is not None:
            if kept < len(sources):
                best.notes.append(f"{len(sources) - kept} lowest-ranked passages dropped")
            return best
        kept -= 1


def fit_chat_prompt(
    request: ChatRequest, render: Callable[[Sequence[Message]], str], count: CountTokens, budget: int
) -> FittedPrompt:
    """The request's messages through ``render`` (a chat template), fitted to ``budget``.

    Drops the oldest conversation turns first, then trims the passages where
    they appear verbatim in the messages (the assistant's system prompt).
    """
    messages = list(request.messages)
    text = render(messages)
    tokens = count(text)
    dropped = 0
    while tokens > budget:
        removable = [i for i, m in enumerate(messages[:-1]) if m.role != "system"]
        if not removable:
            break
        del messages[removable[0]]
        dropped += 1
        text = render(messages)
        tokens = count(text)
    if tokens <= budget:
        return FittedPrompt(text, tokens, history_dropped=dropped)
    bodies = [sp.passage.text for sp in request.passages]
    present = [b for b in bodies if b and any(b in m.content for m in messages)]
    if not present:
        raise _too_long(tokens, budget)
    question = _question(request)

    def render_with(sources: list[tuple[str, str]]) -> str:
        replaced = []
        for message in messages:
            content = message.content
            for (_, new), old in zip(sources, present, strict=False):
                if new != old:
                    content = content.replace(old, new)
            for old in present[len(sources) :]:
                content = content.replace(old, "(omitted)")
            replaced.append(Message(role=message.role, content=content))
        return render(replaced)

    fitted = _fit_sources([("", b) for b in present], question, count, budget, render_with)
    fitted.history_dropped = dropped
    return fitted


def _too_long(tokens: int, budget: int) -> ContextLengthError:
    return ContextLengthError(
        f"the prompt needs {tokens} tokens even without sources, but only {budget} fit the context window "
        "after reserving room for the answer; shorten the question or raise the context size (n_ctx)"
    )


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
