"""The Assistant: retrieve -> decide -> prompt -> generate -> guard -> cite, sync and async.

``ask`` / ``aask`` return an :class:`~grokassist.types.Answer`; ``stream`` /
``astream`` yield text pieces and then the final ``Answer``. When the sources
do not answer the question the assistant abstains (says it does not know and
offers a human) instead of calling a model. Backends are tried in order: when
one fails before any text was shown, the next one answers, and the answer
records which did.

Every piece of model text passes the same checks before anyone sees it, in
the SDK, the CLI, the widget service and the robot runtime alike
(:mod:`grokassist.guard`): the repetition guard cuts a model that loops, the
grounding guard drops each sentence that no source supports (numbers, prices,
menu paths, codes and names must appear in the source it cites), and the output
guard withholds an answer that would leak the system prompt or a secret. When
nothing the model said is supported, the answer is composed from the sources'
own sentences (the extractive backend) instead.

Sources have trust tiers (:mod:`grokassist.trust`). Only ``official`` and
``live`` sources are shown to models, checked against and quoted: community
posts never support a sentence, and are at most reported in one marked line
when nothing official answers (``answer.community = "attributed"``). Live
sources (:mod:`grokassist.live`: status feeds, host-product tools) lead the
answer to a question about the current state, cited with their time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread

from .answerability import Expected, answerability, answers
from .backends.base import ChatBackend, ChatRequest, GenerationSettings
from .config import Settings, load_settings
from .errors import BackendError, ConfigurationError, GrokAssistError
from .guard import FLAG_KEY, GroundingGuard, OutputGuard, RepetitionGuard, environment_secrets
from .guard.rendering import RenderingCheck
from .knowledge import KnowledgeBase
from .language import detect, fusion_weights, message, same_language
from .live import (
    HostTool,
    KeywordToolRouter,
    LiveSource,
    LiveSources,
    host_tool,
    open_live_source,
    status_passage,
    tool_passage,
)
from .prompting import (
    DEFAULT_SYSTEM_PROMPT,
    build_prompt,
    extract_citations,
    group_by_document,
    rewrite_followup,
)
from .retrieval.base import Filters
from .selection import SentenceScorer, evidence
from .stores.base import ConversationStore
from .stores.memory import SessionStore
from .text import content_terms
from .tools import ToolRegistry, choose_tool_call, tool_call_mode
from .trust import COMMUNITY_PREFIX, tier_of
from .types import Action, Answer, Chunk, Citation, LiveUse, Message, ScoredPassage, ToolCall, Usage

__all__ = ["ABSTAIN_TEXT", "Assistant", "BackendSpec", "RepetitionGuard", "confidence"]

log = logging.getLogger("grokassist")

ABSTAIN_TEXT = message("abstain", "en")

BackendSpec = str | ChatBackend | Sequence[str | ChatBackend] | None

# Calibration of the abstention confidence (see docs/evaluation.md): cosine
# similarity of all-MiniLM-L6-v2 between a question and its best passage,
# mapped linearly from [_COS_LOW, _COS_HIGH] to [0, 1], and the share of the
# question's content terms found in one source (the best of the first three),
# weighted _DENSE_WEIGHT : 1 - _DENSE_WEIGHT. With answer.abstain_below = 0.5
# this answers 96-100% of in-domain questions and abstains on 98-100% of
# out-of-domain ones on the evaluation sets (docs/evaluation.md has the curve).
_COS_LOW, _COS_HIGH = 0.30, 0.65
_DENSE_WEIGHT = 0.65
_COVERAGE_PASSAGES = 3
#: The confidence of an answer led by live facts: the status or tool result answers a question
#: about the current state whatever the articles' similarity to it (see docs/live-data.md).
LIVE_CONFIDENCE = 0.9
#: What precedes and follows a report of community posts (``answer.community = "attributed"``).
_NOT_CONFIRMED = "Our support articles and live sources don't confirm that."
_OFFER_HUMAN = "I can connect you with a human agent who can help."


@dataclass(frozen=True)
class Calibration:
    """How one embedding model's cosine similarity maps to the confidence's dense part.

    ``low``/``high``: the window mapped to [0, 1] for a question in the
    documents' language; ``cross_low``/``cross_high``: for a question in another
    language, whose confidence is the dense part alone (its words cannot be
    found in the sources, so word coverage would push every such question
    below the line).
    """

    low: float
    high: float
    cross_low: float
    cross_high: float


#: Per embedding model (its ``name``), measured on the shared sets and the example
#: help centres in English, Indonesian and Spanish (docs/languages.md). e5's cosines
#: sit in a narrow band (0.80-0.92 for any question about the same kind of product),
#: MiniLM's spread over 0.1-0.8. A model not listed uses MiniLM's.
CALIBRATIONS: dict[str, Calibration] = {
    "all-MiniLM-L6-v2-onnx-int8": Calibration(_COS_LOW, _COS_HIGH, 0.15, 0.35),
    "multilingual-e5-small-q4": Calibration(0.81, 0.93, 0.80, 0.84),
}
_DEFAULT_CALIBRATION = CALIBRATIONS["all-MiniLM-L6-v2-onnx-int8"]

#: Model text that means "the sources do not answer": the assistant abstains (and offers a human)
#: rather than show a model's refusal or fall back to another composer.
_NOT_COVERED = re.compile(
    r"^\W*(i (do not|don't|dont) know|i'?m not sure|(the )?(provided )?(sources?|documents?|context|"
    r"articles?) (do(es)? not|don't|doesn't) (say|mention|cover|contain|answer|provide|include)|"
    r"there is no information|no information (is )?(available|provided)|i (cannot|can't|can not) "
    r"(find|answer))",
    re.I,
)


def confidence(
    question: str,
    passages: Sequence[ScoredPassage],
    *,
    embedder: str = "",
    cross_language: bool = False,
) -> float:
    """How well the retrieved passages match the question, in ``[0, 1]`` (similarity only).

    ``embedder`` names the model whose cosines the passages carry (its
    :data:`CALIBRATIONS` entry); ``cross_language``: the question is in another
    language than the sources, so only meaning counts.
    """
    if not passages:
        return 0.0
    cal = CALIBRATIONS.get(embedder, _DEFAULT_CALIBRATION)
    cos = max((sp.dense_score or 0.0) for sp in passages)
    if cross_language:
        return round(min(1.0, max(0.0, (cos - cal.cross_low) / (cal.cross_high - cal.cross_low))), 4)
    dense = min(1.0, max(0.0, (cos - cal.low) / (cal.high - cal.low)))
    terms = set(content_terms(question))
    if not terms:
        return round(dense, 4)
    # An answer is grounded in one source: terms scattered over several sources
    # (typical of an off-topic question) count less than terms found together.
    coverage = max(
        len(terms.intersection(content_terms(sp.passage.indexed_text()))) / len(terms)
        for sp in passages[:_COVERAGE_PASSAGES]
    )
    return round(_DENSE_WEIGHT * dense + (1 - _DENSE_WEIGHT) * coverage, 4)


@dataclass
class _Prepared:
    question: str
    query: str
    session: str | None
    passages: tuple[ScoredPassage, ...]
    confidence: float
    request: ChatRequest | None
    reason: str = ""  # why the assistant abstains (when ``request`` is None)
    expects: Expected | None = None  # the kind of fact the question asks for
    language: str = "en"  # the question's language: the assistant's own words use it
    sources_language: str = "en"  # the documents' language
    live: tuple[LiveUse, ...] = ()  # the live sources consulted (they lead ``passages``)
    community: tuple[ScoredPassage, ...] = ()  # community sources that match (reported, never stated)


@dataclass
class _Turn:
    """One backend's attempt at an answer: the guards between its text and the caller.

    The sync and async drivers feed it chunks and show what :meth:`feed` returns;
    :meth:`finish` gives the rest and the :class:`Answer`.
    """

    assistant: Assistant
    prep: _Prepared
    backend: str
    repetition: RepetitionGuard = field(default_factory=RepetitionGuard)
    grounding: GroundingGuard | None = None
    usage: Usage | None = None
    shown: str = ""
    held: str = ""  # checked text not released yet (no expected fact stated so far)
    raw: str = ""
    withheld: str | None = None  # why the output guard stopped the answer
    fallback: bool = True  # compose an extractive answer when nothing is supported

    def __post_init__(self) -> None:
        if self.assistant.settings.answer.grounding:
            rendering = None
            if not same_language(self.prep.language, self.prep.sources_language):
                rendering = RenderingCheck(self.prep.passages, self.assistant.kb.embedder, self.prep.language)
            self.grounding = GroundingGuard(self.prep.passages, rendering=rendering)

    @property
    def done(self) -> bool:
        return self.repetition.tripped or self.withheld is not None or self._not_covered()

    def _not_covered(self) -> bool:
        return not self.shown and bool(_NOT_COVERED.match(self.raw.strip()))

    def feed(self, chunk: Chunk) -> str:
        self.usage = chunk.usage or self.usage
        if not chunk.text or self.done:
            return ""
        self.raw += chunk.text
        if self._not_covered():
            return ""
        passed = self.repetition.feed(chunk.text)
        if self.repetition.tripped:
            log.warning("backend %s repeated itself; answer cut at the repeat", self.backend)
        if self.grounding is None:
            return self._show(passed)
        return self._show(self.grounding.feed(passed) if passed else "")

    def _show(self, text: str) -> str:
        """Checked text, released once the output guard passes it (and, when the question asks for
        a price, count or duration, once one is stated: until then the answer may still be "I don't know")."""
        if not text or self.withheld is not None:
            return ""
        self.withheld = self.assistant.output_guard.violation(self.shown + self.held + text)
        if self.withheld is not None:
            return ""
        self.held += text
        if not answers(self.prep.expects, self.shown + self.held, self.prep.query):
            return ""
        out, self.held = self.held, ""
        if not self.shown:
            out = self.assistant._introduce(self.prep, out)
        self.shown += out
        return out

    def finish(self) -> tuple[str, Answer]:
        """The text still to show and the answer (an extractive one when nothing was supported)."""
        rest = ""
        if not self.done or self.repetition.tripped:
            tail = self.repetition.flush() if not self.repetition.tripped else ""
            checked = tail if self.grounding is None else self.grounding.feed(tail) + self.grounding.flush()
            rest = self._show(checked)
        if self.withheld is not None:
            return "", self.assistant._withheld(self.prep, self.withheld)
        if self._not_covered():
            log.info("backend %s found no answer in the sources", self.backend)
            answer = self.assistant._abstain(self.prep, "not_in_sources")
            return answer.text, answer
        if self.grounding is not None and self.grounding.dropped:
            log.info(
                "grounding guard dropped %d sentence(s) of %s: %s",
                len(self.grounding.dropped),
                self.backend,
                "; ".join(f"{d.sentence[:60]!r} ({d.reason})" for d in self.grounding.dropped[:3]),
            )
        if self.held and not self.shown:
            # asked for a price (a count, a duration) and none was stated: the sources do not say
            answer = self.assistant._abstain(self.prep, f"no_{self.prep.expects}_stated")
            return answer.text, answer
        if not self.shown.strip():
            if self.fallback:
                return self.assistant._extractive(self.prep)
            answer = self.assistant._abstain(self.prep, "no_supported_answer")
            return answer.text, answer
        return rest, self.assistant._finish(self.prep, self.shown, self.backend, self.usage)


class Assistant:
    """A support assistant over one knowledge base.

    >>> assistant = Assistant("starlink", backend="extractive:")   # doctest: +SKIP
    >>> answer = assistant.ask("How do I fix an obstruction?")      # doctest: +SKIP
    >>> answer.citations[0].source                                  # doctest: +SKIP
    """

    def __init__(
        self,
        kb: KnowledgeBase | str | None = None,
        *,
        backend: BackendSpec = None,
        settings: Settings | None = None,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        sessions: ConversationStore | None = None,
        secrets: Iterable[str] = (),
        live: Iterable[LiveSource] | LiveSources = (),
        tools: Iterable[HostTool | Callable[..., Any]] = (),
    ) -> None:
        self.settings = settings or (kb.settings if isinstance(kb, KnowledgeBase) else load_settings())
        self.kb = kb if isinstance(kb, KnowledgeBase) else KnowledgeBase(kb, settings=self.settings)
        self.system_prompt = system_prompt
        self.sessions: ConversationStore = sessions or SessionStore()
        self._backend_spec: BackendSpec = backend if backend is not None else self.settings.backend
        self._backends: list[ChatBackend] | None = None
        self._secrets: list[str] = list(secrets)
        self.output_guard = self._make_output_guard()
        #: status sources, cached and refreshed in the background (grokassist.live)
        self.live: LiveSources = live if isinstance(live, LiveSources) else LiveSources(live)
        if not len(self.live):  # none given: those of the settings ([[live.sources]])
            for config in self.settings.live.sources:
                self.live.add(open_live_source(config))
        #: the host-product tools, on the one tool-call path (grokassist.tools)
        self.tools = ToolRegistry()
        self._host_tools: dict[str, HostTool] = {}
        self.tool_router = KeywordToolRouter()
        for item in tools:
            self.add_tool(item)

    def _make_output_guard(self) -> OutputGuard:
        env = environment_secrets() if self.settings.answer.guard_env_secrets else []
        return OutputGuard([self.system_prompt], [*self._secrets, *env])

    def protect(self, secrets: Iterable[str]) -> OutputGuard:
        """Add strings that no answer may contain (API keys...); returns the updated output guard."""
        self._secrets.extend(secrets)
        self.output_guard = self._make_output_guard()
        return self.output_guard

    # -- live facts and tools -------------------------------------------------------

    def add_live_source(self, source: LiveSource) -> LiveSource:
        """Consult ``source`` (a status feed) for questions about the current state."""
        return self.live.add(source)

    def add_tool(self, tool: HostTool | Callable[..., Any], **options: Any) -> HostTool:
        """Register a host-product tool: a :class:`~grokassist.live.HostTool`, or a typed function
        (``options`` as for :func:`~grokassist.live.host_tool`: description, title, keywords,
        sensitive, timeout, render)."""
        host = tool if isinstance(tool, HostTool) else host_tool(tool, **options)
        self.tools.register(host.tool)
        self._host_tools[host.name] = host
        return host

    def tool(self, fn: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Decorator form of :meth:`add_tool`: ``@assistant.tool`` or ``@assistant.tool(sensitive=True)``.

        Returns the function unchanged.
        """

        def register(f: Callable[..., Any]) -> Callable[..., Any]:
            self.add_tool(f, **options)
            return f

        return register(fn) if fn is not None else register

    # -- backends ------------------------------------------------------------------

    @property
    def backends(self) -> list[ChatBackend]:
        """The fallback chain, first choice first (created on first use)."""
        if self._backends is None:
            from .backends.extractive import ExtractiveBackend

            backends = _resolve_backends(self._backend_spec)
            for backend in backends:  # compare sentences with the question by meaning too
                if isinstance(backend, ExtractiveBackend) and backend.embedder is None:
                    backend.embedder = self.kb.embedder
            self._backends = backends
        return self._backends

    def close(self) -> None:
        """Close the backends, the live sources and the knowledge base."""
        for backend in self._backends or []:
            backend.close()
        self.live.close()
        self.kb.close()

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        for backend in self._backends or []:
            await backend.aclose()
        await anyio.to_thread.run_sync(self.live.close)
        self.kb.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sessions ------------------------------------------------------------------

    def history(self, session_id: str) -> list[Message]:
        """The messages of a session so far."""
        return self.sessions.history(session_id)

    # -- the pipeline --------------------------------------------------------------

    def retrieve(
        self, question: str, *, filters: Filters | None = None, language: str | None = None
    ) -> tuple[ScoredPassage, ...]:
        """The sources the answer would be grounded in: one merged passage per document.

        The best ``max_sources`` documents, each with up to ``passages_per_source``
        of its best passages (``top_k`` passages in all), so that an ambiguous
        question sees every document that may answer it rather than five pieces
        of one. Passages of documents flagged at ingest for planted instructions
        (:mod:`grokassist.guard.injection`) are never used, and community
        documents (:mod:`grokassist.trust`) are not among them
        (:meth:`retrieve_community`). A question whose ``language`` is not the
        documents' is found by meaning more than by its words
        (:func:`grokassist.language.fusion_weights`).
        """
        return self._search(question, filters, community=False, language=language)

    def retrieve_community(
        self, question: str, *, filters: Filters | None = None, language: str | None = None
    ) -> tuple[ScoredPassage, ...]:
        """The community documents (at most two) that match ``question``: reported, never stated as fact."""
        return self._search(question, filters, community=True, language=language)

    def _search(
        self, question: str, filters: Filters | None, *, community: bool, language: str | None = None
    ) -> tuple[ScoredPassage, ...]:
        r = self.settings.retrieval
        weights = fusion_weights(language, self.kb.language) if language else None
        others = self.kb.tier_counts().get("community", 0)
        if community and not others:
            return ()
        wanted = 2 if community else r.max_sources
        # community documents may crowd the ranking: look further down when there are some
        deeper = r.max_sources + 2 + min(others, r.max_sources + 2)
        hits = self.kb.search_documents(question, deeper, filters, weights=weights)
        chosen: list[ScoredPassage] = []
        documents = 0
        for hit in hits:
            room = r.top_k - len(chosen)
            if room <= 0 or documents >= wanted:
                break
            clean = [sp for sp in hit.passages if FLAG_KEY not in sp.passage.metadata]
            if not clean or (tier_of(clean[0]) == "community") != community:
                continue
            chosen.extend(clean[: min(r.passages_per_source, room)])
            documents += 1
        return group_by_document(chosen)

    def _prepare(
        self,
        question: str,
        session: str | None,
        filters: Filters | None,
        settings: GenerationSettings | None,
        language: str | None = None,
        context: Mapping[str, Any] | None = None,
        allow_tools: Collection[str] | bool = False,
    ) -> _Prepared:
        question = question.strip()
        if not question:
            raise ConfigurationError("the question is empty")
        history = self.sessions.history(session) if session else []
        turns = self.settings.answer.history_turns
        history = history[-2 * turns :] if turns else []
        query = rewrite_followup(question, history)
        # the question's language (the caller's hint, e.g. the browser's, when it is too short to
        # tell) is the language of everything the assistant says in its own words
        sources_language = self.kb.language
        lang = detect(question, hint=language, default=sources_language)
        cross = not same_language(lang, sources_language)
        passages = self.retrieve(query, filters=filters, language=lang)
        conf = confidence(query, passages, embedder=self.kb.embedder.name, cross_language=cross)
        a = self.settings.answer
        attributed = a.community == "attributed"
        community = self.retrieve_community(query, filters=filters, language=lang) if attributed else ()
        live, uses = self._consult_live(question, history, dict(context or {}), allow_tools)
        expected: Expected | None = None
        if live:  # a question about the current state: the live facts lead, the articles follow
            conf = max(conf, LIVE_CONFIDENCE)
            passages = (*live, *passages)
        else:
            check = answerability(query, passages) if conf >= a.abstain_below else None
            if check is None or not check.answerable:
                reason = "low_confidence" if check is None else check.reason
                log.info("abstaining on %r: %s", question[:80], reason)
                return _Prepared(
                    question,
                    query,
                    session,
                    passages,
                    conf,
                    None,
                    reason,
                    language=lang,
                    sources_language=sources_language,
                    community=community,
                )
            expected = check.expects
        defaults = GenerationSettings(max_tokens=a.max_tokens, temperature=a.temperature)
        # the model reads the sentences that may answer, not whole passages (quicker, and a small
        # model keeps to them); the guards check its answer against the whole passages
        shown = evidence(query, passages, self.kb.embedder) if a.evidence else passages
        answer_in = lang if cross else ""
        prompt = build_prompt(question, shown, history, instructions=self.system_prompt, language=answer_in)
        request = ChatRequest(
            messages=prompt.messages(),
            question=query if query != question else question,
            passages=shown,
            instructions=self.system_prompt,
            history=tuple(history),
            settings=(settings or GenerationSettings()).merged_over(defaults),
            language=answer_in,
        )
        return _Prepared(
            question,
            query,
            session,
            passages,
            conf,
            request,
            expects=expected,
            language=lang,
            sources_language=sources_language,
            live=uses,
            community=community,
        )

    def _consult_live(
        self,
        question: str,
        history: Sequence[Message],
        context: Mapping[str, Any],
        allow_tools: Collection[str] | bool,
    ) -> tuple[tuple[ScoredPassage, ...], tuple[LiveUse, ...]]:
        """The live sources for ``question``: a host tool's result, then the status feeds it asks about."""
        found: list[tuple[ScoredPassage, LiveUse]] = []
        called = self._call_tool(question, history, context, allow_tools)
        if called is not None:
            found.append(called)
        if len(self.live):
            where = {k: str(v) for k, v in context.items()}
            for source in self.live.for_question(question):
                snapshot = self.live.snapshot(source.name)
                found.append(status_passage(snapshot, question, self.live.clock(), context=where))
        return tuple(p for p, _ in found), tuple(u for _, u in found)

    def _call_tool(
        self,
        question: str,
        history: Sequence[Message],
        context: Mapping[str, Any],
        allow_tools: Collection[str] | bool,
    ) -> tuple[ScoredPassage, LiveUse] | None:
        """Call the host tool the question asks for, if any (see :mod:`grokassist.live.tools`).

        An OpenAI-compatible model (or any model with ``answer.tool_choice = "model"``) chooses among
        all the tools. Otherwise the keyword router chooses (measured better than the packaged local
        model, which calls a tool for most questions that need none, and a few seconds quicker:
        docs/live-data.md), and a local model only fills the arguments the request's context lacks.
        """
        if not self._host_tools:
            return None
        mode = self.settings.answer.tool_choice
        choosers = [b for b in self.backends if tool_call_mode(b) != "none"] if mode != "keywords" else []
        # the customer's words only: no document text can choose a tool or its arguments
        said = [*(m for m in history if m.role == "user"), Message(role="user", content=question)]
        if choosers and (mode == "model" or tool_call_mode(choosers[0]) == "native"):
            try:
                call = choose_tool_call(choosers, said, self.tools)
            except GrokAssistError as exc:
                log.warning("no model could choose a tool (%s); using the keyword router", exc)
            else:
                if call is None:
                    return None
                if call.name not in self._host_tools:
                    log.warning("the model asked for an unknown tool %r: ignored", call.name)
                    return None
                return self._run_tool(
                    self._host_tools[call.name], call.arguments, context, allow_tools, question
                )
        host = self.tool_router.pick(question, list(self._host_tools.values()))
        if host is None:
            return None
        arguments: dict[str, Any] = {}
        missing = [k for k in host.required() if k not in context]
        if missing and choosers:  # a local model reads them from the customer's words
            try:
                call = choose_tool_call(choosers, said, [host.tool])
            except GrokAssistError as exc:
                log.warning("no model could fill the arguments of %s: %s", host.name, exc)
                call = None
            arguments = call.arguments if call is not None and call.name == host.name else {}
        if any(k not in context and k not in arguments for k in host.required()):
            log.info(
                "tool %s fits %r but its arguments %s are unknown: not called",
                host.name,
                question[:80],
                missing,
            )
            return None
        return self._run_tool(host, arguments, context, allow_tools, question)

    def _run_tool(
        self,
        host: HostTool,
        arguments: Mapping[str, Any],
        context: Mapping[str, Any],
        allow_tools: Collection[str] | bool,
        question: str,
    ) -> tuple[ScoredPassage, LiveUse]:
        fields = host.tool.args.model_fields
        # what the host knows (an account, a region) wins over what a model wrote
        merged = {**arguments, **{k: v for k, v in context.items() if k in fields}}
        allowed = allow_tools is True or (not isinstance(allow_tools, bool) and host.name in allow_tools)
        log.info("calling tool %s for %r", host.name, question[:80])
        result = self.tools.run(ToolCall(name=host.name, arguments=merged), allow_sensitive=allowed)
        return tool_passage(host, result, self.live.clock())

    def _abstain(self, prep: _Prepared, reason: str | None = None) -> Answer:
        text, citations = message("abstain", prep.language), tuple[Citation, ...]()
        reported = self._community_report(prep)
        if reported is not None:
            text, citations = reported
        answer = Answer(
            text=text,
            citations=citations,
            confidence=prep.confidence,
            abstained=True,
            actions=(
                Action(type="offer_human", params={"reason": reason or prep.reason or "low_confidence"}),
            ),
            question=prep.question,
            query=prep.query,
            backend="none",
            session_id=prep.session,
            language=prep.language,
            live=prep.live,
        )
        self._remember(prep, answer)
        return answer

    def _community_report(self, prep: _Prepared) -> tuple[str, tuple[Citation, ...]] | None:
        """What customers report about the question (``answer.community = "attributed"``), in one
        marked line, when no official or live source answers it: never stated as fact."""
        if not prep.community or self.settings.answer.community != "attributed":
            return None
        if confidence(prep.query, prep.community) < self.settings.answer.abstain_below:
            return None
        _, scored = SentenceScorer(self.kb.embedder).score(prep.query, prep.community, community=True)
        if not scored:
            return None
        best = scored[0]
        quoted = " ".join(best.unit.text.split()).replace("“", '"').replace("”", '"')
        text = f"{_NOT_CONFIRMED}\n{COMMUNITY_PREFIX} “{quoted}” [1]\n{_OFFER_HUMAN}"
        if self.output_guard.violation(text) is not None:
            return None
        _, citations = extract_citations("[1]", (prep.community[best.source],))
        return text, citations

    def _withheld(self, prep: _Prepared, reason: str) -> Answer:
        log.warning("output guard withheld an answer (%s) to %r", reason, prep.question[:200])
        answer = Answer(
            text=message("withheld", prep.language),
            confidence=prep.confidence,
            abstained=True,
            actions=(Action(type="offer_human", params={"reason": "withheld"}),),
            question=prep.question,
            query=prep.query,
            backend="guard",
            session_id=prep.session,
            guarded=True,
            language=prep.language,
            live=prep.live,
        )
        self._remember(prep, answer)
        return answer

    def _extractive(self, prep: _Prepared) -> tuple[str, Answer]:
        """The sources' own best sentences, when no model sentence was supported."""
        from .backends.extractive import ExtractiveBackend

        assert prep.request is not None
        turn = _Turn(self, prep, "extractive", fallback=False)
        backend = ExtractiveBackend(embedder=self.kb.embedder)
        pieces = [turn.feed(chunk) for chunk in backend.stream(prep.request)]
        rest, answer = turn.finish()
        return "".join(pieces) + rest, answer

    def _finish(self, prep: _Prepared, text: str, backend: str, usage: Usage | None) -> Answer:
        text, citations = extract_citations(text, prep.passages)
        if not text.strip():
            return self._abstain(prep)
        citations = citations[: self.settings.answer.max_citations]
        answer = Answer(
            text=text,
            citations=citations,
            confidence=prep.confidence,
            abstained=False,
            question=prep.question,
            query=prep.query,
            backend=backend,
            session_id=prep.session,
            usage=usage,
            language=prep.language,
            live=prep.live,
        )
        self._remember(prep, answer)
        return answer

    @staticmethod
    def _introduce(prep: _Prepared, text: str) -> str:
        """An answer quoting the sources in another language than the question's starts with a line
        in the customer's language that says so (the quoted sentences stay as written: translating
        them would put words in the articles' mouth that no guard has checked)."""
        if same_language(prep.language, prep.sources_language):
            return text
        if same_language(detect(text, default=prep.sources_language), prep.language):
            return text  # the backend answered in the question's language (a table row or a list of
            # names and numbers reads as no language: it is the sources', and gets the line)
        return f"{message('sources', prep.language)}\n{text}"

    def _remember(self, prep: _Prepared, answer: Answer) -> None:
        if prep.session:
            self.sessions.append(
                prep.session,
                Message(role="user", content=prep.question),
                Message(role="assistant", content=answer.text),
            )

    # -- sync ----------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        session: str | None = None,
        filters: Mapping[str, object] | None = None,
        settings: GenerationSettings | None = None,
        language: str | None = None,
        context: Mapping[str, Any] | None = None,
        allow_tools: Collection[str] | bool = False,
    ) -> Answer:
        """Answer ``question`` from the knowledge base, with citations, or abstain.

        The assistant's own words (an abstention, the offer of a human, the line
        introducing sources in another language) are in the question's language;
        ``language`` (an ISO 639-1 code, e.g. the browser's) is used when the
        question is too short to tell.

        Nothing is shown before the answer is complete, so any backend failure
        falls back to the next backend (``stream`` can only do that until its
        first text piece).

        ``context`` holds what the host knows of the customer (``{"account": "A-1",
        "region": "Queensland"}``): tools take their arguments from it, and it wins
        over arguments a model wrote. ``allow_tools`` permits sensitive tools: ``True``
        for all, or their names.
        """
        prep = self._prepare(question, session, filters, settings, language, context, allow_tools)  # type: ignore[arg-type]
        return _last_answer(self._generate(prep, live=False))

    def stream(
        self,
        question: str,
        *,
        session: str | None = None,
        filters: Mapping[str, object] | None = None,
        settings: GenerationSettings | None = None,
        language: str | None = None,
        context: Mapping[str, Any] | None = None,
        allow_tools: Collection[str] | bool = False,
    ) -> Iterator[str | Answer]:
        """Yield the answer's text pieces as they pass the guards, then the final :class:`Answer`."""
        prep = self._prepare(question, session, filters, settings, language, context, allow_tools)  # type: ignore[arg-type]
        yield from self._generate(prep, live=True)

    def _generate(self, prep: _Prepared, *, live: bool) -> Iterator[str | Answer]:
        """Text pieces (when ``live``) and the answer; falls back while nothing was shown."""
        if prep.request is None:
            answer = self._abstain(prep)
            yield answer.text
            yield answer
            return
        errors: list[str] = []
        for backend in self.backends:
            turn = _Turn(self, prep, backend.name)
            chunks = backend.stream(prep.request)
            try:
                for chunk in chunks:
                    shown = turn.feed(chunk)
                    if shown and live:
                        yield shown
                    if turn.done:
                        break
            except BackendError as exc:
                if turn.shown and live:  # never fall back after text reached the caller
                    raise
                log.warning("backend %s failed, trying the next one: %s", backend.name, exc)
                errors.append(f"{backend.name}: {exc}")
                continue
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            rest, answer = turn.finish()
            if rest and live:
                yield rest
            yield answer
            return
        raise BackendError("every backend failed: " + "; ".join(errors))

    # -- async ---------------------------------------------------------------------

    async def aask(
        self,
        question: str,
        *,
        session: str | None = None,
        filters: Mapping[str, object] | None = None,
        settings: GenerationSettings | None = None,
        language: str | None = None,
        context: Mapping[str, Any] | None = None,
        allow_tools: Collection[str] | bool = False,
    ) -> Answer:
        """Async twin of :meth:`ask`."""
        prep = await anyio.to_thread.run_sync(
            lambda: self._prepare(question, session, filters, settings, language, context, allow_tools)  # type: ignore[arg-type]
        )
        answer: Answer | None = None
        async for item in self._agenerate(prep, live=False):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    async def astream(
        self,
        question: str,
        *,
        session: str | None = None,
        filters: Mapping[str, object] | None = None,
        settings: GenerationSettings | None = None,
        language: str | None = None,
        context: Mapping[str, Any] | None = None,
        allow_tools: Collection[str] | bool = False,
    ) -> AsyncIterator[str | Answer]:
        """Async twin of :meth:`stream`; retrieval runs in a worker thread."""
        prep = await anyio.to_thread.run_sync(
            lambda: self._prepare(question, session, filters, settings, language, context, allow_tools)  # type: ignore[arg-type]
        )
        async for item in self._agenerate(prep, live=True):
            yield item

    async def _agenerate(self, prep: _Prepared, *, live: bool) -> AsyncIterator[str | Answer]:
        """Async twin of :meth:`_generate`: the same :class:`_Turn`, driven by ``astream``."""
        if prep.request is None:
            # the session store may be a database: keep its write off the event loop
            answer = await anyio.to_thread.run_sync(self._abstain, prep)
            yield answer.text
            yield answer
            return
        backends = await anyio.to_thread.run_sync(lambda: self.backends)
        errors: list[str] = []
        for backend in backends:
            turn = _Turn(self, prep, backend.name)
            stream = backend.astream(prep.request)
            try:
                async for chunk in stream:
                    shown = turn.feed(chunk)
                    if shown and live:
                        yield shown
                    if turn.done:
                        break
            except BackendError as exc:
                if turn.shown and live:
                    raise
                log.warning("backend %s failed, trying the next one: %s", backend.name, exc)
                errors.append(f"{backend.name}: {exc}")
                continue
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            rest, answer = await anyio.to_thread.run_sync(turn.finish)
            if rest and live:
                yield rest
            yield answer
            return
        raise BackendError("every backend failed: " + "; ".join(errors))


def _last_answer(items: Iterator[str | Answer]) -> Answer:
    answer: Answer | None = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
    assert answer is not None
    return answer


def _resolve_backends(spec: BackendSpec) -> list[ChatBackend]:
    from . import backends as registry

    if spec is None:
        return registry.parse_backend_chain("auto")
    if isinstance(spec, str):
        if not spec.strip(" ,"):
            raise ConfigurationError("no backend configured")
        return registry.parse_backend_chain(spec)
    if isinstance(spec, ChatBackend):
        return [spec]
    items = list(spec)
    if not items:
        raise ConfigurationError("no backend configured")
    return [registry.create_backend(item) if isinstance(item, str) else item for item in items]
