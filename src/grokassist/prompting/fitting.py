"""Fitting a grounded prompt to a token budget, for every local backend.

One procedure whatever the model's prompt form (chat template or completion
text): older conversation turns go first, then the sources are trimmed by token
count (water-filling: short sources stay whole, long ones are cut to an equal
share, keeping the sentences that share the most words with the question), then
the lowest-ranked sources are dropped. Source ``i`` keeps its number ``[i+1]``
because only a suffix is ever dropped. If the question alone cannot fit,
:class:`ContextLengthError`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import ContextLengthError
from ..text import keywords, split_sentences
from ..types import Message
from .render import COMPLETION_STOP, TRANSCRIPT_STOP, Prompt, transcript

__all__ = ["CountTokens", "FittedPrompt", "fit_prompt", "fit_transcript", "trim_text"]

CountTokens = Callable[[str], int]
MIN_PASSAGE_TOKENS = 24


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
    sentences = split_sentences(text)
    if len(sentences) <= 1:
        return _truncate(text, max_tokens, count)
    wanted = keywords(question)
    overlap = [len(keywords(sentence) & wanted) for sentence in sentences]
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


def fit_prompt(
    prompt: Prompt, render: Callable[[Prompt], str], count: CountTokens, budget: int, *, chat: bool
) -> FittedPrompt:
    """``render(prompt)`` cut to at most ``budget`` tokens: history first, then sources.

    ``chat`` says whether ``render`` applies a chat template (stop sequences are
    then the template's own) or writes the completion form (which stops where
    the model would begin a new block).
    """
    stop = () if chat or prompt.json_shape else COMPLETION_STOP
    history = list(prompt.history)
    dropped = 0
    # older turns go before any source is trimmed; a turn is a user message and its reply
    while history and count(render(prompt.with_history(history))) > budget:
        history = history[2:] if len(history) >= 2 and history[0].role == "user" else history[1:]
        dropped += 1
    prompt = prompt.with_history(history)
    fixed = count(render(prompt.with_sources(())))
    if fixed > budget:
        raise _too_long(fixed, budget)
    fitted = _fit_sources(prompt, count, budget, render)
    fitted.stop = stop
    fitted.history_dropped = dropped
    return fitted


def _fit_sources(
    prompt: Prompt, count: CountTokens, budget: int, render: Callable[[Prompt], str]
) -> FittedPrompt:
    """Trim, then drop (lowest rank first) sources until the rendered prompt fits ``budget``."""
    sources = list(prompt.sources)
    question = prompt.question
    kept = len(sources)
    while True:
        current = sources[:kept]
        text = render(prompt.with_sources(current))
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
            text = render(prompt.with_sources(trimmed))
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


def fit_transcript(
    messages: Sequence[Message],
    render: Callable[[Sequence[Message]], str] | None,
    count: CountTokens,
    budget: int,
) -> FittedPrompt:
    """A conversation without grounding, oldest turns dropped until it fits.

    ``render`` is the model's chat template; without one the messages become a
    completion-style transcript.
    """
    remaining = list(messages)
    dropped = 0
    while True:
        text = render(remaining) if render is not None else transcript(remaining)
        tokens = count(text)
        if tokens <= budget:
            stop = () if render is not None else TRANSCRIPT_STOP
            return FittedPrompt(text, tokens, stop, history_dropped=dropped)
        removable = [i for i, m in enumerate(remaining[:-1]) if m.role != "system"]
        if not removable:
            raise _too_long(tokens, budget)
        del remaining[removable[0]]
        dropped += 1


def _too_long(tokens: int, budget: int) -> ContextLengthError:
    return ContextLengthError(
        f"the prompt needs {tokens} tokens even without sources, but only {budget} fit the context window "
        "after reserving room for the answer; shorten the question or raise the context size (n_ctx)"
    )
