"""Tools a model may call: typed arguments, a registry, and one way to ask any backend for a call.

A :class:`Tool` is a name, a description, a pydantic model of its arguments, an
optional callable (sync or async), a ``sensitive`` flag (the caller must hold
permission to run it) and a timeout. A :class:`ToolRegistry` holds tools,
validates a model's :class:`~grokassist.types.ToolCall` against them and runs
it, logging every call. :func:`choose_tool_call` asks a backend chain which
tool (if any) a conversation calls for:

- OpenAI-compatible backends (``tool_calling = "native"``) get the tools as the
  request's ``tools`` field and answer with ``tool_calls``;
- local models (llama.cpp, ONNX, anything that honours
  ``GenerationSettings.json_schema``) get a JSON schema of every possible call,
  ``{"tool": NAME, "arguments": {...}}`` or ``{"tool": "none"}``, which
  llama.cpp compiles into a grammar, so the output always parses;
- the extractive backend cannot choose and is skipped.

The call that comes back is *not* trusted: validate it with
:meth:`ToolRegistry.validate` (unknown tool, bad or out-of-range arguments
raise :class:`~grokassist.errors.ToolError`) and, for anything that acts in the
world, put a gate of your own between the call and its effect (the robot
runtime's :class:`~grokassist.robot.gate.SafetyGate` is one).

>>> from pydantic import BaseModel
>>> class Lookup(BaseModel):
...     order_id: str
>>> registry = ToolRegistry([Tool("order_status", "Where an order is.", Lookup, lambda a: "shipped")])
>>> registry.run(ToolCall(name="order_status", arguments={"order_id": "A1"})).value
'shipped'
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar

import anyio
import anyio.to_thread
from pydantic import BaseModel, ConfigDict, ValidationError

from .backends.base import ChatBackend, ChatRequest, Completion, GenerationSettings, collect
from .errors import BackendError, ConfigurationError, StructuredOutputError, ToolError
from .types import Chunk, Message, ToolCall, ToolSpec

__all__ = [
    "NO_TOOL",
    "Tool",
    "ToolCall",
    "ToolRegistry",
    "ToolResult",
    "achoose_tool_call",
    "choose_tool_call",
    "tool_call_mode",
    "tool_call_schema",
]

log = logging.getLogger("grokassist.tools")

ArgsT = TypeVar("ArgsT", bound=BaseModel)
ToolCallMode = Literal["native", "json_schema", "none"]

#: the name a model writes to call no tool (grammar-constrained output)
NO_TOOL = "none"

_INSTRUCTION = (
    "Decide whether the user's last message asks for one of the tools below. "
    "Call the tool that does what the user asks, with arguments taken from the user's words. "
    f'If the user asks a question or asks for nothing a tool does, choose "{NO_TOOL}".'
)


class Tool(Generic[ArgsT]):
    """A callable tool with validated arguments.

    ``fn`` takes the validated arguments model and returns anything JSON-able
    (a pydantic model, a dict, a string...); it may be sync (run in a worker
    thread) or async. A tool without ``fn`` can still be chosen and validated,
    for callers that execute calls themselves (the robot publishes them).
    """

    def __init__(
        self,
        name: str,
        description: str,
        args: type[ArgsT],
        fn: Callable[[ArgsT], Any] | None = None,
        *,
        sensitive: bool = False,
        timeout: float = 10.0,
    ) -> None:
        if not (isinstance(args, type) and issubclass(args, BaseModel)):
            raise ConfigurationError(f"tool {name!r}: args must be a pydantic model class, not {args!r}")
        if name == NO_TOOL:
            raise ConfigurationError(f"{NO_TOOL!r} is reserved for 'no tool'")
        self.name = name
        self.description = description.strip()
        self.args = args
        self.fn = fn
        self.sensitive = sensitive
        self.timeout = timeout
        try:
            self.spec = ToolSpec(name=name, description=self.description, parameters=args.model_json_schema())
        except ValidationError as exc:
            raise ConfigurationError(f"invalid tool name {name!r}: letters, digits, _ and - only") from exc

    def validate(self, arguments: Mapping[str, Any]) -> ArgsT:
        """The arguments as the tool's model; :class:`ToolError` (``invalid_arguments``) if they don't fit."""
        try:
            return self.args.model_validate(dict(arguments))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolError(
                f"invalid arguments for {self.name}: {problems}", tool=self.name, reason="invalid_arguments"
            ) from exc

    def __repr__(self) -> str:
        return f"Tool({self.name!r}, sensitive={self.sensitive})"


class ToolResult(BaseModel):
    """What running a tool produced (``ok``) or why it did not (``error``, ``reason``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    tool: str
    call_id: str = ""
    ok: bool
    value: Any = None
    error: str = ""
    reason: str = ""
    seconds: float = 0.0


class ToolRegistry:
    """Tools by name: validate a call, check permission, run it within its timeout, log it."""

    def __init__(self, tools: Iterable[Tool[Any]] = ()) -> None:
        self._tools: dict[str, Tool[Any]] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool[Any]) -> Tool[Any]:
        if tool.name in self._tools:
            raise ConfigurationError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool
        return tool

    def get(self, name: str) -> Tool[Any]:
        try:
            return self._tools[name]
        except KeyError:
            raise ToolError(
                f"unknown tool {name!r}; known: {', '.join(sorted(self._tools)) or 'none'}",
                tool=name,
                reason="unknown_tool",
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool[Any]]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(tool.spec for tool in self._tools.values())

    def validate(self, call: ToolCall) -> tuple[Tool[Any], BaseModel]:
        """The tool and its validated arguments; :class:`ToolError` for an unknown tool or bad arguments."""
        tool = self.get(call.name)
        if call.raw_arguments and not call.arguments and call.raw_arguments.strip() not in ("", "{}"):
            raise ToolError(
                f"the arguments of {call.name} are not a JSON object: {call.raw_arguments[:200]!r}",
                tool=call.name,
                reason="invalid_arguments",
            )
        return tool, tool.validate(call.arguments)

    def _start(self, call: ToolCall, allow_sensitive: bool) -> tuple[Tool[Any], BaseModel]:
        tool, args = self.validate(call)
        if tool.sensitive and not allow_sensitive:
            raise ToolError(
                f"{tool.name} is sensitive and the caller has no permission to run it",
                tool=tool.name,
                reason="permission",
            )
        if tool.fn is None:
            raise ToolError(f"{tool.name} has no function to run", tool=tool.name, reason="failed")
        return tool, args

    async def arun(self, call: ToolCall, *, allow_sensitive: bool = False) -> ToolResult:
        """Validate and run ``call``; failures come back as a result with ``ok=False``, and are logged."""
        started = time.perf_counter()
        try:
            tool, args = self._start(call, allow_sensitive)
            fn = tool.fn
            assert fn is not None
            with anyio.fail_after(tool.timeout):
                if inspect.iscoroutinefunction(fn):
                    value = await fn(args)
                else:
                    value = await anyio.to_thread.run_sync(fn, args, abandon_on_cancel=True)
                    if inspect.isawaitable(value):
                        value = await value
        except ToolError as exc:
            return self._failed(call, str(exc), exc.reason, started)
        except TimeoutError:
            limit = self._tools[call.name].timeout
            return self._failed(call, f"{call.name} did not finish within {limit:g}s", "timeout", started)
        except Exception as exc:  # a tool's own failure is reported, not raised into the answer
            return self._failed(call, f"{call.name} failed: {exc!r}", "failed", started)
        return self._done(call, value, started)

    def run(self, call: ToolCall, *, allow_sensitive: bool = False) -> ToolResult:
        """Sync twin of :meth:`arun` (from a thread with no running event loop)."""

        async def go() -> ToolResult:
            return await self.arun(call, allow_sensitive=allow_sensitive)

        return anyio.run(go)

    def _done(self, call: ToolCall, value: Any, started: float) -> ToolResult:
        if isinstance(value, BaseModel):
            value = value.model_dump(mode="json")
        seconds = time.perf_counter() - started
        log.info("tool %s(%s) ok in %.3fs", call.name, json.dumps(call.arguments)[:200], seconds)
        return ToolResult(tool=call.name, call_id=call.id, ok=True, value=value, seconds=seconds)

    def _failed(self, call: ToolCall, error: str, reason: str, started: float) -> ToolResult:
        seconds = time.perf_counter() - started
        log.warning("tool %s refused/failed (%s): %s", call.name, reason, error)
        return ToolResult(
            tool=call.name, call_id=call.id, ok=False, error=error, reason=reason, seconds=seconds
        )


# -- asking a model for a call ------------------------------------------------------------


def tool_call_mode(backend: ChatBackend) -> ToolCallMode:
    """How to ask ``backend`` for a tool call: its ``tool_calling`` attribute, else by kind."""
    declared = getattr(backend, "tool_calling", None)
    if declared in ("native", "json_schema", "none"):
        return declared  # type: ignore[no-any-return]
    if backend.name.split(":", 1)[0] == "extractive":
        return "none"
    return "json_schema"


def tool_call_schema(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The JSON schema of one call of any of ``tools``, or of ``{"tool": "none"}``.

    Each tool's ``$defs`` are hoisted to the root so that references resolve.
    """
    defs: dict[str, Any] = {}
    variants: list[dict[str, Any]] = []
    for spec in tools:
        if not (spec.parameters.get("properties") or {}):  # no arguments: {"tool": NAME}
            bare = {"type": "object", "properties": {"tool": {"const": spec.name}}, "required": ["tool"]}
            variants.append(bare)
            continue
        parameters = copy.deepcopy(spec.parameters)
        for name, definition in (parameters.pop("$defs", None) or {}).items():
            if name in defs and defs[name] != definition:
                raise ConfigurationError(f"two tools define different schemas named {name!r}")
            defs[name] = definition
        parameters.pop("title", None)
        variants.append(
            {
                "type": "object",
                "properties": {"tool": {"const": spec.name}, "arguments": parameters},
                "required": ["tool", "arguments"],
            }
        )
    variants.append({"type": "object", "properties": {"tool": {"const": NO_TOOL}}, "required": ["tool"]})
    schema: dict[str, Any] = {"anyOf": variants}
    if defs:
        schema["$defs"] = defs
    return schema


def _catalogue(tools: Sequence[ToolSpec]) -> str:
    """One line per tool: its name and the first sentence of its description (the schema has the rest)."""
    lines = [f"- {spec.name}: {spec.description.split('. ')[0].rstrip('.')}" for spec in tools]
    lines.append(f"- {NO_TOOL}: a question, or nothing above")
    return "\n".join(lines)


def _conversation(messages: Sequence[Message] | str) -> tuple[Message, ...]:
    if isinstance(messages, str):
        return (Message(role="user", content=messages),)
    return tuple(m for m in messages if m.role != "system")


def _request(
    mode: ToolCallMode,
    conversation: tuple[Message, ...],
    specs: tuple[ToolSpec, ...],
    instruction: str,
    settings: GenerationSettings | None,
) -> ChatRequest:
    catalogue = _catalogue(specs)
    last_user = next((m.content for m in reversed(conversation) if m.role == "user"), "")
    base = GenerationSettings(temperature=0.0, max_tokens=160)
    if mode == "native":
        extra = GenerationSettings(tools=specs, tool_choice="auto")
        system = instruction
    else:
        extra = GenerationSettings(json_schema=tool_call_schema(specs))
        system = f"{instruction}\n\nTools:\n{catalogue}"
    merged = extra.merged_over((settings or GenerationSettings()).merged_over(base))
    return ChatRequest(
        messages=(Message(role="system", content=system), *conversation),
        # completion-style prompts render only the question: it carries the tool list too
        question=f"{last_user}\nTools:\n{catalogue}\nWhich tool does this ask for?",
        settings=merged,
    )


def _parse(
    mode: ToolCallMode, completion: Completion, calls: tuple[ToolCall, ...], backend: str
) -> ToolCall | None:
    if mode == "native":
        return calls[0] if calls else None
    text = completion.text.strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StructuredOutputError(
            f"the tool choice is not valid JSON ({completion.finish_reason}): {text[:200]!r}", backend=backend
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("tool"), str):
        raise StructuredOutputError(f"the tool choice names no tool: {text[:200]!r}", backend=backend)
    if data["tool"] == NO_TOOL:
        return None
    arguments = data.get("arguments")
    return ToolCall(
        name=data["tool"],
        arguments=arguments if isinstance(arguments, dict) else {},
        raw_arguments=json.dumps(arguments) if arguments is not None else "",
    )


def _prepare(
    backends: ChatBackend | Sequence[ChatBackend],
    tools: ToolRegistry | Sequence[Tool[Any]] | Sequence[ToolSpec],
) -> tuple[list[ChatBackend], tuple[ToolSpec, ...]]:
    chain = [backends] if isinstance(backends, ChatBackend) else list(backends)
    if isinstance(tools, ToolRegistry):
        specs = tools.specs()
    else:
        specs = tuple(t if isinstance(t, ToolSpec) else t.spec for t in tools)
    if not specs:
        raise ConfigurationError("choose_tool_call needs at least one tool")
    return chain, specs


def choose_tool_call(
    backends: ChatBackend | Sequence[ChatBackend],
    messages: Sequence[Message] | str,
    tools: ToolRegistry | Sequence[Tool[Any]] | Sequence[ToolSpec],
    *,
    instruction: str = _INSTRUCTION,
    settings: GenerationSettings | None = None,
) -> ToolCall | None:
    """The tool call the conversation asks for, or ``None``; the first backend that can choose decides.

    ``messages`` is the conversation (or just the user's words). Only what you
    pass is shown to the model: keep retrieved documents out of it, so that
    text inside a document can never choose a tool. A backend that fails
    (:class:`BackendError`) hands over to the next; malformed output raises
    :class:`StructuredOutputError` (a grammar-constrained model cut short by
    ``max_tokens``, a server that ignored the schema).
    """
    chain, specs = _prepare(backends, tools)
    conversation = _conversation(messages)
    errors: list[str] = []
    for backend in chain:
        mode = tool_call_mode(backend)
        if mode == "none":
            continue
        request = _request(mode, conversation, specs, instruction, settings)
        try:
            chunks: list[Chunk] = list(backend.stream(request))
        except BackendError as exc:
            errors.append(f"{backend.name}: {exc}")
            continue
        calls = next((c.tool_calls for c in reversed(chunks) if c.tool_calls), ())
        return _parse(mode, collect(chunks), calls, backend.name)
    raise BackendError("no backend could choose a tool call: " + ("; ".join(errors) or "none can"))


async def achoose_tool_call(
    backends: ChatBackend | Sequence[ChatBackend],
    messages: Sequence[Message] | str,
    tools: ToolRegistry | Sequence[Tool[Any]] | Sequence[ToolSpec],
    *,
    instruction: str = _INSTRUCTION,
    settings: GenerationSettings | None = None,
) -> ToolCall | None:
    """Async twin of :func:`choose_tool_call`."""
    chain, specs = _prepare(backends, tools)
    conversation = _conversation(messages)
    errors: list[str] = []
    for backend in chain:
        mode = tool_call_mode(backend)
        if mode == "none":
            continue
        request = _request(mode, conversation, specs, instruction, settings)
        chunks: list[Chunk] = []
        stream = backend.astream(request)
        try:
            async for chunk in stream:
                chunks.append(chunk)
        except BackendError as exc:
            errors.append(f"{backend.name}: {exc}")
            continue
        finally:
            aclose: Callable[[], Awaitable[None]] | None = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        calls = next((c.tool_calls for c in reversed(chunks) if c.tool_calls), ())
        return _parse(mode, collect(chunks), calls, backend.name)
    raise BackendError("no backend could choose a tool call: " + ("; ".join(errors) or "none can"))
