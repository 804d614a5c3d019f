"""What the routes share: authentication, sessions, the guard, the store, the handoff, metrics.

Kept free of FastAPI so that its rules (who may call which route, who may use which
session, when a conversation goes to a person, what an answer looks like on the wire)
read and test on their own.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar
from urllib.parse import quote

import anyio

from ..assistant import Assistant
from ..backends.base import GenerationSettings
from ..errors import BackendError, BackendTimeoutError, ConfigurationError, SessionStoreError
from ..guard.output import WITHHELD_TEXT, OutputGuard, environment_secrets
from ..handoff.settings import HandoffSettings
from ..handoff.tickets import build_escalation
from ..handoff.triggers import Fired
from ..stores import Escalation, open_store
from ..types import Action, Answer, Message
from .metrics import Metrics
from .schemas import ActionOut, AskResponse, CitationOut, LiveOut
from .security import Access, Client, key_fingerprint, retry_after_header
from .settings import ServerSettings

if TYPE_CHECKING:
    from ..handoff.worker import OutboxWorker

__all__ = ["ApiError", "Final", "Service", "public_source"]

log = logging.getLogger("grokassist.server")

T = TypeVar("T")
P = ParamSpec("P")


@dataclass
class ApiError(Exception):
    """An error answered to the client as ``{"error": {...}}`` with ``status``."""

    status: int
    type: str
    message: str
    param: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        detail: dict[str, object] = {"type": self.type, "message": self.message}
        if self.param:
            detail["param"] = self.param
        return {"error": detail}


def public_source(source: str) -> str:
    """Where a document came from, if that is a web address (server file paths stay private)."""
    return source if source.startswith(("https://", "http://")) else ""


@dataclass(frozen=True)
class Final:
    """The end of an answer stream: the answer as it may be sent."""

    answer: Answer
    guarded: bool


NOT_FOUND_SESSION = (
    "unknown session: start a new one (sessions expire and belong to the client that created them)"
)


STORE_UNAVAILABLE = "the session store is unavailable; please try again in a moment"

#: What the assistant says instead of answering once a person has the conversation.
WITH_PERSON_TEXT = "A person from our support team has this conversation and will reply here."
HANDED_OFF_TEXT = "I've passed this conversation to a person from our support team; they will reply here."


class Service:
    """The state of one app.

    Sessions, history, answers and feedback live in the store named by
    ``settings.store_url``, so that workers and replicas sharing it serve any
    conversation; the assistant's ``sessions`` becomes the store's history.
    """

    def __init__(
        self, assistant: Assistant, settings: ServerSettings, handoff: HandoffSettings | None = None
    ) -> None:
        self.assistant = assistant
        self.settings = settings
        self.handoff = handoff or HandoffSettings()
        self.metrics = Metrics()
        self.store = open_store(
            settings.store_url,
            folder=settings.data_dir or Path(assistant.settings.data_dir) / "server",
            ttl_s=settings.session_ttl_s,
            max_sessions=settings.max_sessions,
            max_messages=assistant.sessions.max_messages,
            conversations=assistant.sessions,
        )
        assistant.sessions = self.store.conversations
        self.limiter = self.store.limits.limiter(
            settings.rate_limit_per_minute / 60.0, settings.rate_limit_burst
        )
        self._keys = [(k.encode(), key_fingerprint(k)) for k in settings.key_values()]
        secrets = [*settings.key_values(), *(s.get_secret_value() for s in settings.guard_secrets)]
        if settings.guard_env_secrets:
            secrets += environment_secrets()
        # one output guard, the assistant's: it checks every answer in the core answer path,
        # and the service uses it for what only HTTP sends (history, snippets, source pages)
        self.guard: OutputGuard = assistant.protect(secrets)
        self.model_id = settings.model_name or f"grokassist-{assistant.kb.name}"
        self.started = int(time.time())
        self._slots: anyio.CapacityLimiter | None = None  # created in the event loop
        self._redact: Callable[[str], str] | None = None
        #: The outbox worker running in this process, if any (webhooks nudge it).
        self.worker: OutboxWorker | None = None

    def close(self) -> None:
        self.store.close()

    def slots(self) -> anyio.CapacityLimiter:
        """The ``max_concurrent_answers`` limiter (made on first use, inside the event loop)."""
        if self._slots is None:
            self._slots = anyio.CapacityLimiter(self.settings.max_concurrent_answers)
        return self._slots

    async def call(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work(*args, **kwargs)`` in a worker thread (store calls may wait on disk or network)."""
        return await anyio.to_thread.run_sync(partial(work, *args, **kwargs))

    # -- who is calling --------------------------------------------------------------

    async def authorize(
        self,
        access: Access,
        authorization: str | None,
        origin: str | None,
        own_origin: str,
        host: str | None,
        *,
        rate_limited: bool = True,
    ) -> Client:
        """Identify the caller, check its key (as ``access`` requires) and origin, and take a
        rate-limit token (unless not ``rate_limited``: metrics stay readable while the store,
        which may hold the buckets, is down)."""
        client = self._identify(access, authorization, host)
        if origin is not None and not self.origin_allowed(origin, own_origin):
            raise ApiError(403, "origin_not_allowed", f"pages on {origin} may not call this API")
        if not rate_limited:
            return client
        if self.limiter.in_memory:  # a lock and some arithmetic: no worker thread needed
            wait = self.limiter.acquire(client.id)
        else:
            wait = await self.call(self.limiter.acquire, client.id)
        if wait > 0:
            self.metrics.rate_limited.inc()
            raise ApiError(
                429,
                "rate_limited",
                "too many requests: slow down and retry after the number of seconds in Retry-After",
                headers={"Retry-After": retry_after_header(wait)},
            )
        return client

    def check_key(self, access: Access, authorization: str | None) -> None:
        """401 unless ``authorization`` carries what ``access`` requires (nothing else is checked)."""
        self._identify(access, authorization, None)

    def _identify(self, access: Access, authorization: str | None, host: str | None) -> Client:
        anonymous = Client(id=f"ip:{host or 'unknown'}", authenticated=False)
        if not self._keys:
            return anonymous
        if authorization is None:
            if access is Access.CUSTOMER and self.settings.allow_anonymous:
                return anonymous
            raise ApiError(
                401,
                "authentication_required",
                "send an API key: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        scheme, _, token = authorization.partition(" ")
        given = token.strip().encode()
        matched: str | None = None
        for key, fingerprint in self._keys:
            if hmac.compare_digest(given, key):  # compare against every key: no early exit
                matched = fingerprint
        if scheme.lower() != "bearer" or matched is None:
            raise ApiError(
                401, "invalid_api_key", "the API key is not valid", headers={"WWW-Authenticate": "Bearer"}
            )
        return Client(id=f"key:{matched}", authenticated=True)

    def origin_allowed(self, origin: str, own_origin: str) -> bool:
        allowed = self.settings.cors_origins
        return "*" in allowed or origin.rstrip("/") in allowed or origin == own_origin

    # -- sessions ----------------------------------------------------------------------

    async def session_for(self, client: Client, session_id: str | None) -> str:
        """The caller's session ``session_id`` (404 if not theirs), or a new one."""
        if session_id is None:
            return await self.call(self.store.sessions.create, client.id)
        await self.own_session(client, session_id, param="session_id")
        return session_id

    async def own_session(self, client: Client, session_id: str, *, param: str | None = None) -> None:
        """404 unless ``session_id`` is live and the caller's."""
        if not await self.call(self.store.sessions.owns, session_id, client.id):
            raise ApiError(404, "session_not_found", NOT_FOUND_SESSION, param=param)

    async def own_answer(self, client: Client, answer_id: str) -> None:
        """404 unless ``answer_id`` was served to the caller."""
        owner = await self.call(self.store.answers.owner, answer_id)
        if owner is None or owner != client.id:
            raise ApiError(404, "answer_not_found", "unknown answer id", param="answer_id")

    async def history(self, session_id: str) -> list[Message]:
        """The conversation so far, through the output guard."""
        messages = await self.call(self.assistant.history, session_id)
        return [m.model_copy(update={"content": self.guard.clean(m.content)}) for m in messages]

    # -- the handoff to a person ------------------------------------------------------------

    async def held(self, session_id: str) -> Escalation | None:
        """The escalation that gives this conversation to a person, if any."""
        return await self.call(self.store.outbox.active, session_id)

    def redactor(self) -> Callable[[str], str] | None:
        """Removes personal data from tickets (``None`` when the setting is off)."""
        if self.handoff.redact_personal_data and self._redact is None:
            from ..handoff.redact import PersonalDataRedactor

            self._redact = PersonalDataRedactor(phone_region=self.handoff.phone_region)
        return self._redact if self.handoff.redact_personal_data else None

    async def escalate(
        self,
        client: Client,
        fired: Fired,
        *,
        session_id: str | None,
        answer_id: str | None = None,
        reason: str = "",
        contact: str = "",
        metadata: dict[str, str] | None = None,
        base_url: str = "",
    ) -> Escalation:
        """Queue the conversation for a person (or return the escalation that already has it)."""
        if session_id is not None:
            held = await self.held(session_id)
            if held is not None:
                return held
        transcript = await self.history(session_id) if session_id else []
        if session_id:
            answers = await self.call(self.store.answers.recent, session_id, 10)
        else:
            found = await self.call(self.store.answers.get, answer_id) if answer_id else None
            answers = [found] if found is not None else []
        escalation = build_escalation(
            client=client.id,
            transcript=transcript,
            answers=answers,
            fired=fired,
            settings=self.handoff,
            session_id=session_id,
            answer_id=answer_id,
            reason=reason,
            contact=contact,
            metadata=metadata,
            sources_url=base_url.rstrip("/") + "/v1/sources" if base_url else "",
            redact=self.redactor(),
        )
        await self.call(self.store.outbox.enqueue, escalation)
        self.metrics.escalations.labels(fired.trigger).inc()
        if self.worker is not None:
            self.worker.nudge()
        return escalation

    def handoff_answer(self, question: str, session: str, escalation: Escalation, *, new: bool) -> Answer:
        """What the customer sees instead of an answer once a person has the conversation: a
        ``handed_off`` action (``answered`` false: the text is a notice, not an answer)."""
        status = "with_person" if escalation.ticket_id else "waiting"
        params = {
            "escalation_id": escalation.id,
            "trigger": escalation.trigger,
            "status": status,
            "answered": False,
        }
        return Answer(
            text=HANDED_OFF_TEXT if new else WITH_PERSON_TEXT,
            confidence=0.0,
            actions=(Action(type="handed_off", params=params),),
            question=question,
            backend="handoff",
            session_id=session,
        )

    def client_error(self, exc: BaseException) -> ApiError:
        """The error the client sees for ``exc`` (counted, and logged with its trace when unexpected)."""
        if isinstance(exc, ApiError):
            return exc
        if isinstance(exc, BackendTimeoutError):
            self.metrics.backend_errors.labels("timeout").inc()
            return ApiError(504, "backend_timeout", "the answer took too long; please try again")
        if isinstance(exc, BackendError):
            self.metrics.backend_errors.labels(type(exc).__name__).inc()
            log.warning("backend error: %s", exc)
            return ApiError(502, "backend_error", "the answering service failed; please try again later")
        if isinstance(exc, SessionStoreError):
            self.metrics.store_errors.inc()
            log.warning("session store error: %s", exc)
            return ApiError(503, "store_unavailable", STORE_UNAVAILABLE, headers={"Retry-After": "5"})
        if isinstance(exc, ConfigurationError):
            log.error("configuration error while answering: %s", exc)
            return ApiError(500, "configuration_error", "the service is misconfigured")
        log.error("error while answering", exc_info=exc)
        return ApiError(500, "internal_error", "internal error")

    def tool_permission(self, client: Client, allow_tools: list[str] | None) -> tuple[str, ...]:
        """The sensitive tools a request may run: only a caller with an API key (the host's server)
        may grant them; 403 for anyone else, and 422 for a tool that is not registered."""
        if not allow_tools:
            return ()
        if not client.authenticated:
            raise ApiError(
                403,
                "tools_not_allowed",
                "allow_tools needs an API key: the host's server grants sensitive tools, not the browser",
                param="allow_tools",
            )
        unknown = [name for name in allow_tools if name not in self.assistant.tools]
        if unknown:
            raise ApiError(422, "invalid_request", f"no tool named {unknown[0]!r}", param="allow_tools")
        return tuple(allow_tools)

    def check_question(self, question: str) -> None:
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise ApiError(
                422, "invalid_request", f"the question is longer than {limit} characters", "question"
            )

    # -- answers -----------------------------------------------------------------------

    def guard_answer(self, answer: Answer) -> tuple[Answer, bool]:
        """The answer as it may be sent: secrets redacted from snippets.

        The assistant has already withheld text that leaked the prompt or a secret
        (``answer.guarded``); that is counted here.
        """
        citations = tuple(
            c.model_copy(update={"text": self.guard.redact(c.text), "title": self.guard.redact(c.title)})
            for c in answer.citations
        )
        if answer.guarded:
            self.metrics.guard_blocks.labels("withheld").inc()
        return answer.model_copy(update={"citations": citations}), answer.guarded

    def withheld(self, question: str, session: str | None, reason: str, *, confidence: float = 0.0) -> Answer:
        """The answer sent in place of one the guard stopped."""
        self.metrics.guard_blocks.labels(reason).inc()
        log.warning("output guard withheld an answer (%s) to %r", reason, question[:200])
        return Answer(
            text=WITHHELD_TEXT,
            confidence=confidence,
            abstained=True,
            actions=(Action(type="offer_human", params={"reason": "withheld"}),),
            question=question,
            backend="guard",
            session_id=session,
        )

    def count(self, answer: Answer, api: str) -> None:
        self.metrics.answers.labels(api).inc()
        if answer.abstained:
            self.metrics.abstentions.inc()

    async def record(self, client: Client, answer: Answer) -> str:
        """Store the answer (in a worker thread); returns its id."""
        return await self.call(self.store.answers.add, client.id, answer)

    def response(
        self, answer: Answer, answer_id: str, session: str, base_url: str, guarded: bool = False
    ) -> AskResponse:
        """The wire form of an answer; citation links are built on ``base_url`` (the request's)."""
        sources = base_url.rstrip("/") + "/v1/sources/"
        return AskResponse(
            answer_id=answer_id,
            session_id=session,
            text=answer.text,
            citations=[
                CitationOut(
                    index=c.index,
                    doc_id=c.doc_id,
                    title=c.title or c.doc_id,
                    # a live source is no stored article: it links to its status page, if public
                    url=public_source(c.source) if c.tier == "live" else sources + quote(c.doc_id, safe="/"),
                    source=public_source(c.source),
                    snippet=c.text,
                    score=c.score,
                    tier=c.tier,
                    as_of=c.as_of,
                )
                for c in answer.citations
            ],
            confidence=answer.confidence,
            abstained=answer.abstained,
            actions=[ActionOut(type=a.type, params=a.params) for a in answer.actions],
            guarded=guarded,
            language=answer.language,
            live=[
                LiveOut(
                    kind=u.kind,
                    name=u.name,
                    title=u.title,
                    state=u.state,
                    as_of=u.as_of,
                    checked_at=u.checked_at,
                )
                for u in answer.live
            ],
        )

    async def answer_stream(
        self,
        question: str,
        *,
        session: str,
        filters: Mapping[str, object] | None,
        settings: GenerationSettings | None = None,
        language: str | None = None,
        context: Mapping[str, str] | None = None,
        allow_tools: Collection[str] = (),
    ) -> AsyncGenerator[str | Final, None]:
        """The assistant's stream (checked by its guards): text pieces, then a :class:`Final`."""
        answer: Answer | None = None
        started = anyio.current_time()
        first = True
        stream = self.assistant.astream(
            question,
            session=session,
            filters=filters,
            settings=settings,
            language=language,
            context=context,
            allow_tools=tuple(allow_tools),
        )
        async with self.slots(), aclosing(self._timed(stream)) as items:
            async for item in items:
                if isinstance(item, Answer):
                    answer = item
                    continue
                if item:
                    if first:
                        self.metrics.first_token.observe(anyio.current_time() - started)
                        first = False
                    yield item
        if answer is None:
            yield Final(self.withheld(question, session, "incomplete"), True)
            return
        answer, guarded = self.guard_answer(answer)
        yield Final(answer, guarded)

    async def answer(
        self,
        question: str,
        *,
        session: str,
        filters: Mapping[str, object] | None,
        settings: GenerationSettings | None = None,
        language: str | None = None,
        context: Mapping[str, str] | None = None,
        allow_tools: Collection[str] = (),
    ) -> Final:
        """The whole answer through the output guard; any failure becomes an :class:`ApiError`.

        Unlike :meth:`answer_stream` nothing is sent before the end, so the assistant
        may fall back to its next backend on any failure (``Assistant.aask``).
        """
        try:
            async with self.slots():
                try:
                    with anyio.fail_after(self.settings.request_timeout_s):
                        answer = await self.assistant.aask(
                            question,
                            session=session,
                            filters=filters,
                            settings=settings,
                            language=language,
                            context=context,
                            allow_tools=tuple(allow_tools),
                        )
                except TimeoutError as exc:
                    raise BackendTimeoutError("no answer within the request timeout") from exc
        except Exception as exc:
            raise self.client_error(exc) from exc
        answer, guarded = self.guard_answer(answer)
        return Final(answer, guarded)

    async def _timed(self, items: AsyncIterator[T]) -> AsyncGenerator[T, None]:
        """``items``, failing with :class:`BackendTimeoutError` past the request timeout; closes ``items``."""
        deadline = anyio.current_time() + self.settings.request_timeout_s
        try:
            while True:
                try:
                    with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                        try:
                            item = await anext(items)
                        except StopAsyncIteration:
                            return
                except TimeoutError as exc:
                    raise BackendTimeoutError("no answer within the request timeout") from exc
                yield item
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()
