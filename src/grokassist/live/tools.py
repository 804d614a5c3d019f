"""Host-product tools: typed Python functions the assistant may call, whose results are live sources.

The host registers functions on the :class:`~grokassist.assistant.Assistant`
(``assistant.tool(fn)`` or ``@assistant.tool(...)``); each becomes a
:class:`HostTool`: a :class:`grokassist.tools.Tool` (the one tool-call path the
robot's actions use too: pydantic arguments, a description, ``sensitive``, a
timeout, logged calls) plus what an answer needs: a title to cite, the
result's pydantic model, trigger keywords and how to word the result.

Who decides to call a tool:

* an OpenAI-compatible model (native ``tool_calls``), or any model with
  ``answer.tool_choice = "model"`` (llama.cpp: grammar-constrained JSON),
  chooses, from the customer's words only (:func:`grokassist.tools.choose_tool_call`);
* otherwise (the extractive chain, and local models by default)
  :class:`KeywordToolRouter` chooses: a tool is called only when the question
  names one of its keywords *and* asks about the customer's own or current
  state ("my", "right now", "is it"), never for how-to or policy questions,
  with its arguments from the request's ``context``; a local model, when there
  is one, fills only the arguments the context lacks (the router never guesses
  them from text). Measured in docs/live-data.md: the packaged local model
  alone calls a tool for most questions that need none.

Arguments the host passes in the request's ``context`` (an account id, a
region) always replace what a model wrote for them, so text in a question or
a document cannot make the assistant look up someone else's account.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ..errors import ConfigurationError, ToolError
from ..text import content_terms
from ..tools import Tool, ToolResult
from ..trust import AS_OF_KEY, TRUST_KEY
from ..types import LiveUse, Passage, ScoredPassage
from .base import clock_time

__all__ = ["HostTool", "KeywordToolRouter", "host_tool", "render_value", "tool_passage"]

#: the customer's own things, or the state of things now
_PERSONAL_OR_NOW = re.compile(
    r"\b(?:my|mine|our|i|i'm|im|me|right now|now|currently|at the moment|today|still|is it|are they|"
    r"is there|are there|any)\b",
    re.I,
)
#: how-to, policy and general questions: the articles answer them
_GENERAL = re.compile(
    r"\b(?:how (?:do|can|should|would) (?:i|we|you)|how to|what should (?:i|we)|what happens|"
    r"what does .{0,40} mean|what is an?|what are|how long (?:does|do|will|should) (?:it|the|a|an)\b|"
    r"why (?:does|do|did)|(?:can|could|should) i|where (?:can|do) i|policy|warranty|credits?|refunds?|"
    r"compensat\w*|price|cost|guide|instructions?|install|set up|setup)\b",
    re.I,
)


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[_\-\s]+", name) if w]


@dataclass
class HostTool:
    """A tool the host product offers, with what an answer needs to cite its result."""

    tool: Tool[Any]
    title: str
    keywords: tuple[str, ...] = ()
    result: type[BaseModel] | None = None
    render: Callable[[Any], str] | None = None
    _terms: list[frozenset[str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        # each keyword (a word or a phrase) as its stemmed terms; a phrase matches when all are there
        phrases = self.keywords or tuple(_words(self.tool.name))
        self._terms = [frozenset(content_terms(k)) for k in phrases if content_terms(k)]

    @property
    def name(self) -> str:
        return self.tool.name

    def matches(self, question: str) -> int:
        """How many of the tool's keywords (phrases: all their words) the question contains."""
        terms = set(content_terms(question))
        return sum(1 for phrase in self._terms if phrase <= terms)

    def required(self) -> list[str]:
        return [name for name, f in self.tool.args.model_fields.items() if f.is_required()]


def _hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    try:
        return get_type_hints(fn)
    except NameError as exc:
        raise ConfigurationError(
            f"tool {name!r}: cannot resolve its type annotations ({exc}); define the models it uses at "
            "module level"
        ) from exc


def _args_model(fn: Callable[..., Any], name: str) -> tuple[type[BaseModel], bool]:
    """The arguments model of ``fn``, and whether ``fn`` takes it whole (one pydantic parameter)."""
    signature = inspect.signature(fn)
    hints = _hints(fn, name)
    params = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if len(params) == 1:
        hint = hints.get(params[0].name)
        if isinstance(hint, type) and issubclass(hint, BaseModel):
            return hint, True
    fields: dict[str, Any] = {}
    for p in params:
        if p.name not in hints:
            raise ConfigurationError(f"tool {name!r}: parameter {p.name!r} needs a type annotation")
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hints[p.name], default)
    model = create_model(
        "".join(w.title() for w in _words(name)) + "Args", __config__=ConfigDict(extra="forbid"), **fields
    )
    return model, False


def host_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    title: str | None = None,
    keywords: Iterable[str] = (),
    sensitive: bool = False,
    timeout: float = 10.0,
    render: Callable[[Any], str] | None = None,
) -> HostTool:
    """A :class:`HostTool` from a typed function.

    ``fn`` takes either one pydantic model (its arguments) or typed parameters
    (a model is built from them), may be sync or async, and returns a pydantic
    model (its return annotation, validated), a dict or a string. The
    description defaults to the first paragraph of its docstring.
    """
    tool_name = name or fn.__name__
    text = description or inspect.cleandoc(fn.__doc__ or "").split("\n\n")[0].replace("\n", " ")
    if not text.strip():
        raise ConfigurationError(f"tool {tool_name!r} needs a description (or a docstring)")
    args, whole = _args_model(fn, tool_name)
    returned = _hints(fn, tool_name).get("return")
    result = returned if isinstance(returned, type) and issubclass(returned, BaseModel) else None

    def check(value: Any) -> Any:
        if result is None or isinstance(value, result):
            return value
        try:
            return result.model_validate(value)
        except ValidationError as exc:
            raise ToolError(
                f"{tool_name} returned a result that is not a {result.__name__}: {exc}",
                tool=tool_name,
                reason="failed",
            ) from exc

    call: Callable[[Any], Any]
    if inspect.iscoroutinefunction(fn):

        async def acall(validated: BaseModel) -> Any:
            value = await (fn(validated) if whole else fn(**validated.model_dump()))
            return check(value)

        call = acall
    else:

        def scall(validated: BaseModel) -> Any:
            return check(fn(validated) if whole else fn(**validated.model_dump()))

        call = scall
    tool = Tool(tool_name, text, args, call, sensitive=sensitive, timeout=timeout)
    return HostTool(
        tool=tool,
        title=title or " ".join(_words(tool_name)).capitalize(),
        keywords=tuple(keywords),
        result=result,
        render=render,
    )


class KeywordToolRouter:
    """Chooses a tool for a question without a model (see the module docstring)."""

    def allows(self, question: str, tool: HostTool) -> bool:
        """Whether ``question`` may call ``tool``: it names one of the tool's keywords and asks about
        the customer's own or current state (how a local model's choice is checked)."""
        if _GENERAL.search(question) or not _PERSONAL_OR_NOW.search(question):
            return False
        return tool.matches(question) > 0

    def pick(self, question: str, tools: Sequence[HostTool]) -> HostTool | None:
        """The tool ``question`` asks for (the most keywords; the first registered on a tie), or ``None``."""
        if _GENERAL.search(question) or not _PERSONAL_OR_NOW.search(question):
            return None
        ranked = sorted(
            ((t.matches(question), i, t) for i, t in enumerate(tools)), key=lambda x: (-x[0], x[1])
        )
        return ranked[0][2] if ranked and ranked[0][0] > 0 else None

    def choose(
        self, question: str, tools: Sequence[HostTool], context: Mapping[str, Any]
    ) -> tuple[HostTool, dict[str, Any]] | None:
        """The tool to call and its arguments (from ``context``: none is guessed), or ``None``."""
        tool = self.pick(question, tools)
        if tool is None:
            return None
        arguments = {k: v for k, v in context.items() if k in tool.tool.args.model_fields}
        return (tool, arguments) if all(k in arguments for k in tool.required()) else None


def _humanise(key: str) -> str:
    return " ".join(_words(key)).capitalize()


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return clock_time(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value) or "none"
    if value is None:
        return "unknown"
    return str(value)


def render_value(value: Any) -> str:
    """A tool's result as a list, one field per line ("- Online: no."); a string stays as it is."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, Mapping):
        lines = []
        for key, item in value.items():
            if isinstance(item, Mapping):
                item = "; ".join(f"{_humanise(str(k))} {_value(v)}" for k, v in item.items())
            lines.append(f"- {_humanise(str(key))}: {_value(item)}.")
        return "\n".join(lines)
    text = " ".join(str(value).split())
    return text if text[-1:] in ".!?" else text + "."


def tool_passage(
    host: HostTool, result: ToolResult, now: datetime, *, value: Any = None
) -> tuple[ScoredPassage, LiveUse]:
    """The ``live`` source an answer cites for a tool call, and the record of its use."""
    at = clock_time(now)
    metadata: dict[str, str | int | float | bool] = {TRUST_KEY: "live"}
    if result.ok:
        shown = value if value is not None else result.value
        body = host.render(shown) if host.render is not None else render_value(shown)
        title = f"{host.title}, as of {at}"
        text = f"As of {at}, {host.title[:1].lower() + host.title[1:]} reports:\n{body}"
        metadata[AS_OF_KEY] = now.astimezone(UTC).isoformat()
        metadata["live_state"] = "fresh"
        use = LiveUse(kind="tool", name=host.name, title=host.title, state="fresh", as_of=now, checked_at=now)
    else:
        reason = (
            result.reason if result.reason in ("timeout", "permission", "invalid_arguments") else "failed"
        )
        subject = host.title[:1].lower() + host.title[1:]
        text = {
            "timeout": f"I could not check {subject} just now: it did not answer within "
            f"{host.tool.timeout:g} seconds (tried at {at}).",
            "permission": f"I am not permitted to check {subject} in this conversation.",
            "invalid_arguments": f"I could not check {subject}: the request was not valid (tried at {at}).",
            "failed": f"I could not check {subject} just now: it failed (tried at {at}).",
        }[reason]
        title = f"{host.title}, not available at {at}"
        metadata["live_state"] = reason
        use = LiveUse(
            kind="tool",
            name=host.name,
            title=host.title,
            state=reason,  # type: ignore[arg-type]
            checked_at=now,
            error=result.error[:300],
        )
    passage = Passage(
        id=f"tool:{host.name}", doc_id=f"tool:{host.name}", text=text, title=title, metadata=metadata
    )
    return ScoredPassage(passage=passage, score=1.0), use
