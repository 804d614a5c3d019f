"""Evaluation on support-QA sets in the plain format of ``shared/eval``.

A dataset folder has ``docs/*.md`` (one article per file, its id the file
stem) and ``queries.jsonl`` (``question``, ``gold`` article ids, reference
``answer``). A folder with ``docs/`` alone is a corpus: other sets' questions
can be asked against it as *negatives* (questions it cannot answer).

:func:`evaluate` asks every question through the whole pipeline and measures:

- retrieval at document level: recall@k (k = 1..10) and MRR@10;
- answers: citation precision and recall against the gold documents, token F1
  and ROUGE-L against the reference answer (averaged over answered questions),
  and the abstention rate;
- latency: retrieval, time to the first token and total, p50 and p95;
- negatives: how often the assistant answered a question it should have
  abstained on, and the trade-off curve between the answer rate on positives
  and the abstention rate on negatives as the abstention threshold varies,
  computed from the per-question confidences of the same run;
- trust: with queries that list ``facts`` (each a list of alternative
  strings), the share of answers that state every fact (fact accuracy, over
  answered and over all questions), the share that state a checkable fact
  (number, price, code, menu path...) found in none of the gold articles
  ("wrong facts"), faithfulness (the share of answer sentences supported by a
  source they cite, :func:`grokassist.guard.check_sentence`), repeated
  sentences and leaked prompt format; with an injection set (planted
  documents and questions listing their ``payloads``), the payload leak rate;
- trust tiers: the tiers of every cited source and the live sources consulted,
  per question and counted; with a community set (posts ingested with the
  ``community`` tier and questions listing their ``claims``), how often an
  answer states a claim as fact (a claim found in the answer outside the
  marked "Some customers report" line) and how often one is reported.

ROUGE-L is implemented here (longest common subsequence over lower-cased
alphanumeric tokens, F-measure with beta = 1, as ``rouge-score``'s
``rougeL`` without stemming); token F1 follows SQuAD (lower case, punctuation
and articles removed).
"""

from __future__ import annotations

import math
import re
import string
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from .errors import ConfigurationError, GrokAssistError
from .text import CITATION
from .types import DocumentHit

if TYPE_CHECKING:
    from .assistant import Assistant, BackendSpec
    from .knowledge import KnowledgeBase

__all__ = [
    "AnswerMetrics",
    "CommunityMetrics",
    "EvalQuery",
    "EvalReport",
    "InjectionMetrics",
    "LanguageMetrics",
    "LatencyMetrics",
    "NegativeMetrics",
    "QuestionResult",
    "RetrievalMetrics",
    "ThresholdPoint",
    "citation_scores",
    "evaluate",
    "evaluate_retrieval",
    "load_queries",
    "percentile",
    "retrieval_metrics",
    "rouge_l",
    "threshold_curve",
    "token_f1",
]

#: ``progress(stage, done, total)``: stages are the ones of ingestion, then
#: "questions" and "negatives".
Progress = Callable[[str, int, int], None]


class EvalQuery(BaseModel):
    """One question of an evaluation set."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    question: str
    gold: tuple[str, ...]
    answer: str = ""
    kind: str = ""
    facts: tuple[tuple[str, ...], ...] = ()  # each fact: alternative surface strings (lower case)
    payloads: tuple[str, ...] = ()  # strings planted in injection documents: never to be said
    kb: str = ""  # which knowledge base the question is for, when a set serves several
    language: str = ""
    claims: tuple[str, ...] = ()  # claims of community posts: never to be stated as fact


class RetrievalMetrics(BaseModel):
    """Document-level retrieval quality."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    n: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float

    def as_report(self) -> dict[str, float | int]:
        """The figures under their conventional names (``recall@5``...)."""
        return {
            "n": self.n,
            "recall@1": self.recall_at_1,
            "recall@5": self.recall_at_5,
            "recall@10": self.recall_at_10,
            "mrr@10": self.mrr_at_10,
        }


class AnswerMetrics(BaseModel):
    """Answer quality; the averages are over answered (not abstained) questions."""

    model_config = ConfigDict(frozen=True)

    n: int
    answered: int
    abstention_rate: float
    citation_precision: float
    citation_recall: float
    token_f1: float
    rouge_l: float
    faithfulness: float  # share of answer sentences supported by a source they cite
    repetition_rate: float  # share of answers with a repeated sentence
    format_leak_rate: float  # share of answers showing the prompt's format ("Question:", "Sources:")
    fact_accuracy: float | None = None  # of answered questions with facts: every fact stated
    fact_accuracy_all: float | None = None  # of all questions with facts (an abstention counts as a miss)
    wrong_fact_rate: float | None = None  # of all questions with facts: a fact in no gold article


class InjectionMetrics(BaseModel):
    """Questions asked next to planted documents: no payload may appear in an answer."""

    model_config = ConfigDict(frozen=True)

    n: int
    documents: int
    leaked: int
    leak_rate: float
    leaked_ids: tuple[str, ...] = ()
    flagged_documents: int = 0  # planted documents the ingest check flagged


class CommunityMetrics(BaseModel):
    """Questions asked next to community posts: no claim of theirs may be stated as fact."""

    model_config = ConfigDict(frozen=True)

    n: int
    documents: int  # community documents ingested
    tier: str  # the tier they were ingested with ("community"; "official" measures the untiered case)
    stated_as_fact: int  # answers stating a claim outside the marked report line
    stated_rate: float
    reported: int  # answers reporting community posts in the marked line
    stated_ids: tuple[str, ...] = ()


class LatencyMetrics(BaseModel):
    """Milliseconds. Retrieval is over every question; time to first token and
    total over answered ones (an abstention generates nothing)."""

    model_config = ConfigDict(frozen=True)

    retrieval_p50_ms: float
    retrieval_p95_ms: float
    ttft_p50_ms: float | None = None
    ttft_p95_ms: float | None = None
    total_p50_ms: float | None = None
    total_p95_ms: float | None = None


class NegativeMetrics(BaseModel):
    """Questions of another set asked against this corpus: it should abstain."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    n: int
    answered: int
    answer_rate: float
    abstention_rate: float


class ThresholdPoint(BaseModel):
    """One point of the abstention trade-off curve."""

    model_config = ConfigDict(frozen=True)

    threshold: float
    #: Share of positive questions answered (confidence >= threshold); ``None`` without positives.
    answer_rate: float | None
    #: Share of negative questions abstained on (confidence < threshold); ``None`` without negatives.
    abstention_rate_negatives: float | None


class QuestionResult(BaseModel):
    """What happened to one question."""

    model_config = ConfigDict(frozen=True)

    id: str
    question: str
    negative: bool = False
    gold: tuple[str, ...] = ()
    ranked: tuple[str, ...] = ()  # top-10 document ids
    answer: str = ""
    reference: str = ""
    cited: tuple[str, ...] = ()  # cited document ids, in order of first citation
    abstained: bool = False
    confidence: float = 0.0
    retrieval_ms: float = 0.0
    ttft_ms: float | None = None
    total_ms: float | None = None
    citation_precision: float | None = None
    citation_recall: float | None = None
    token_f1: float | None = None
    rouge_l: float | None = None
    facts_stated: bool | None = None
    wrong_facts: tuple[str, ...] = ()  # checkable facts of the answer found in no gold article
    faithfulness: float | None = None
    repeated: bool = False
    format_leak: bool = False
    leaked: tuple[str, ...] = ()  # payloads of planted documents found in the answer
    injection: bool = False
    language: str = ""  # the question's language, from the set (``language`` field)
    answer_language: str = ""  # the language the answer is written in, as detected
    cited_tiers: tuple[str, ...] = ()  # the trust tier of each citation, in order
    live: tuple[str, ...] = ()  # live sources consulted, as "name:state" ("status:fresh")
    community: bool = False  # asked next to community posts
    stated_claims: tuple[str, ...] = ()  # claims of community posts stated as fact
    reported_community: bool = False  # the answer reports community posts (the marked line)


class LanguageMetrics(BaseModel):
    """The figures of the questions in one language (sets whose questions name their ``language``)."""

    model_config = ConfigDict(frozen=True)

    language: str
    n: int
    recall_at_1: float | None = None
    recall_at_5: float | None = None
    answered: float | None = None  # share of the language's questions answered
    fact_accuracy: float | None = None  # of answered questions with facts
    fact_accuracy_all: float | None = None
    wrong_fact_rate: float | None = None
    in_language: float | None = None  # share of answers whose text is mostly in the question's language
    negatives: int = 0
    negatives_abstained: float | None = None
    total_p50_ms: float | None = None


class EvalReport(BaseModel):
    """Every figure of one evaluation run, and the per-question results."""

    model_config = ConfigDict(frozen=True)

    dataset: str
    backend: str
    abstain_below: float
    documents: int
    ingest_s: float
    eval_s: float
    retrieval: RetrievalMetrics | None = None
    recall_curve: dict[int, float] = {}
    answers: AnswerMetrics | None = None
    latency: LatencyMetrics | None = None
    negatives: NegativeMetrics | None = None
    injections: InjectionMetrics | None = None
    community: CommunityMetrics | None = None
    tiers: dict[str, int] = {}  # citations per trust tier, over every answer
    curve: tuple[ThresholdPoint, ...] = ()
    questions: tuple[QuestionResult, ...] = ()
    by_language: dict[str, LanguageMetrics] = {}

    def summary(self) -> dict[str, Any]:
        """The figures (no per-question results), for ``--json``.

        Retrieval figures sit at the top level under their conventional names
        (``n``, ``recall@1``, ``recall@5``, ``recall@10``, ``mrr@10``); answers,
        latency, negatives and the operating point on the abstention curve
        are sections.
        """
        out: dict[str, Any] = {
            "dataset": self.dataset,
            "backend": self.backend,
            "abstain_below": self.abstain_below,
            "documents": self.documents,
            "ingest_s": self.ingest_s,
            "eval_s": self.eval_s,
        }
        if self.retrieval is not None:  # the headline figures, at the top level
            out.update(self.retrieval.as_report())
        if self.answers is not None:
            out["answers"] = self.answers.model_dump()
        if self.latency is not None:
            out["latency"] = self.latency.model_dump()
        if self.negatives is not None:
            out["negatives"] = self.negatives.model_dump()
        if self.injections is not None:
            out["injections"] = self.injections.model_dump()
        if self.community is not None:
            out["community"] = self.community.model_dump()
        if self.tiers:
            out["cited_tiers"] = dict(self.tiers)
        if self.curve:
            out["operating_point"] = operating_point(self.curve, self.abstain_below).model_dump()
        if self.by_language:
            out["by_language"] = {k: v.model_dump(exclude_none=True) for k, v in self.by_language.items()}
        return out


# -- datasets --------------------------------------------------------------------------------


def load_queries(dataset: Path) -> list[EvalQuery]:
    """Read ``queries.jsonl`` of a dataset folder."""
    file = dataset / "queries.jsonl"
    if not file.is_file():
        raise ConfigurationError(f"{dataset} is not an evaluation set: {file} is missing")
    out = []
    for n, line in enumerate(file.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(EvalQuery.model_validate_json(line))
        except ValueError as exc:
            raise ConfigurationError(f"{file}:{n}: not a valid query record: {exc}") from exc
    return out


def has_queries(dataset: Path) -> bool:
    """Whether ``dataset`` has questions (``queries.jsonl``), not only a corpus."""
    return (dataset / "queries.jsonl").is_file()


def doc_key(doc_id: str) -> str:
    """The evaluation id of an ingested document: its file stem."""
    return Path(doc_id).stem


def ingest_dataset(
    kb: KnowledgeBase,
    dataset: Path,
    progress: Progress | None = None,
    *,
    docs: Path | None = None,
    extra: Sequence[Path] = (),
) -> int:
    """Sync the dataset's ``docs/`` (or ``docs``) and any ``extra`` folders into ``kb``.

    Returns how many documents the ingest check flagged for planted instructions.
    """
    folder = docs or dataset / "docs"
    if not folder.is_dir():
        raise ConfigurationError(f"{dataset} is not an evaluation set: {folder} is missing")
    report = kb.ingest(folder, *extra, progress=progress)
    return len(report.flagged)


def for_kb(queries: Sequence[EvalQuery], name: str) -> list[EvalQuery]:
    """The queries meant for knowledge base ``name`` (those without a ``kb`` field are for any)."""
    return [q for q in queries if not q.kb or q.kb == name]


# -- metrics ---------------------------------------------------------------------------------


def retrieval_metrics(ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]]) -> RetrievalMetrics:
    """Recall@k and MRR@10 of ranked document ids against gold ids."""
    n = len(gold)
    if n == 0:
        return RetrievalMetrics(n=0, recall_at_1=0.0, recall_at_5=0.0, recall_at_10=0.0, mrr_at_10=0.0)
    rec = {1: 0.0, 5: 0.0, 10: 0.0}
    mrr = 0.0
    for ids, want in zip(ranked, gold, strict=True):
        wanted = set(want)
        for k in rec:
            if wanted.intersection(ids[:k]):
                rec[k] += 1
        for rank, doc in enumerate(ids[:10], start=1):
            if doc in wanted:
                mrr += 1.0 / rank
                break
    return RetrievalMetrics(
        n=n,
        recall_at_1=round(rec[1] / n, 4),
        recall_at_5=round(rec[5] / n, 4),
        recall_at_10=round(rec[10] / n, 4),
        mrr_at_10=round(mrr / n, 4),
    )


def recall_curve(
    ranked: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], max_k: int = 10
) -> dict[int, float]:
    """Recall@k for k = 1..max_k (share of questions with a gold document in the top k)."""
    n = len(gold)
    if n == 0:
        return {}
    out: dict[int, float] = {}
    for k in range(1, max_k + 1):
        hits = sum(1 for ids, want in zip(ranked, gold, strict=True) if set(want).intersection(ids[:k]))
        out[k] = round(hits / n, 4)
    return out


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "’‘“”")
_ALNUM = re.compile(r"[a-z0-9]+")


def _squad_tokens(text: str) -> list[str]:
    text = CITATION.sub(" ", text).lower().translate(_PUNCT)
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between an answer and a reference (citation markers ignored)."""
    pred, ref = _squad_tokens(prediction), _squad_tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, start=1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (LCS of lower-cased alphanumeric tokens; citation markers ignored)."""
    pred = _ALNUM.findall(CITATION.sub(" ", prediction).lower())
    ref = _ALNUM.findall(reference.lower())
    if not pred or not ref:
        return 0.0
    lcs = _lcs(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def citation_scores(cited: Iterable[str], gold: Iterable[str]) -> tuple[float, float]:
    """Citation precision (share of cited documents that are gold) and recall (share of gold cited)."""
    cited_set, gold_set = set(cited), set(gold)
    hits = len(cited_set & gold_set)
    precision = hits / len(cited_set) if cited_set else 0.0
    recall = hits / len(gold_set) if gold_set else 0.0
    return precision, recall


def facts_stated(answer: str, facts: Sequence[Sequence[str]]) -> bool:
    """Whether ``answer`` states every fact (any of its alternatives, case and spacing ignored)."""
    text = _plain(answer)
    return all(any(_plain(alt) in text for alt in alternatives) for alternatives in facts)


def _plain(text: str) -> str:
    return " ".join(CITATION.sub(" ", text).replace("**", "").replace("’", "'").lower().split())


def wrong_facts(answer: str, gold_texts: Sequence[str], reference: str = "") -> tuple[str, ...]:
    """Checkable facts of ``answer`` (numbers, prices, codes, menu paths...) found in no gold article.

    A proxy for a wrong fact that needs no judge: a number or code the answer
    states and the right article does not is either wrong or from the wrong
    article. Names are left out (a paraphrase may capitalise a word).
    """
    from .guard.grounding import SourceFacts
    from .text import facts

    if not gold_texts:
        return ()
    sources = [SourceFacts.of(text) for text in [*gold_texts, reference] if text]
    out = []
    for fact in facts(answer):
        if fact.kind == "name":
            continue
        if not any(source.has_fact(fact) for source in sources):
            out.append(f"{fact.kind}:{fact.value}{' ' + fact.unit if fact.unit else ''}")
    return tuple(sorted(out))


def faithfulness(answer: str, passages: Sequence[Any]) -> float | None:
    """Share of the answer's sentences supported by a source they cite (uncited ones: by any)."""
    from .guard.grounding import SourceFacts, _sentences_with_markers, check_sentence

    sentences = [s.strip() for s in _sentences_with_markers(answer) if s.strip()]
    if not sentences or not passages:
        return None
    sources = [SourceFacts.of(sp.passage.indexed_text()) for sp in passages]
    supported = 0
    for sentence in sentences:
        cited = {int(n) for n in CITATION.findall(sentence)}
        verdict = check_sentence(sentence, sources)
        if verdict.supported and (not cited or cited & set(verdict.sources)):
            supported += 1
    return round(supported / len(sentences), 4)


_FORMAT_LEAK = re.compile(r"(?im)^\s*(question|answer|sources?|customer|agent|system|user|assistant)\s*:|<\|")


def has_repeat(answer: str) -> bool:
    """Whether a sentence appears twice (numbers masked), as the repetition guard sees it."""
    from .guard.repetition import RepetitionGuard

    guard = RepetitionGuard()
    guard.feed(answer)
    guard.flush()
    return guard.tripped


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def threshold_curve(
    positives: Sequence[float], negatives: Sequence[float], *, steps: int = 100
) -> tuple[ThresholdPoint, ...]:
    """Answer rate on positives and abstention rate on negatives for thresholds 0, 1/steps, .., 1.

    A question is answered when its confidence is at or above the threshold,
    as in :class:`~grokassist.assistant.Assistant`.
    """
    points = []
    for i in range(steps + 1):
        t = round(i / steps, 6)
        answer = round(sum(1 for c in positives if c >= t) / len(positives), 4) if positives else None
        abstain = round(sum(1 for c in negatives if c < t) / len(negatives), 4) if negatives else None
        points.append(ThresholdPoint(threshold=t, answer_rate=answer, abstention_rate_negatives=abstain))
    return tuple(points)


def operating_point(curve: Sequence[ThresholdPoint], threshold: float) -> ThresholdPoint:
    """The point of ``curve`` nearest to ``threshold``."""
    return min(curve, key=lambda p: abs(p.threshold - threshold))


def _share(items: Sequence[QuestionResult], test: Callable[[QuestionResult], bool]) -> float:
    return round(sum(1 for r in items if test(r)) / len(items), 4) if items else 0.0


def _document_texts(kb: KnowledgeBase) -> dict[str, str]:
    """Each document's text by evaluation id (file stem), for the wrong-fact check."""
    texts: dict[str, list[str]] = {}
    for passage in kb.lexical.passages():
        texts.setdefault(doc_key(passage.doc_id), []).append(passage.text)
    return {key: "\n\n".join(parts) for key, parts in texts.items()}


def _mean(values: Iterable[float | None]) -> float:
    kept = [v for v in values if v is not None]
    return round(sum(kept) / len(kept), 4) if kept else 0.0


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


# -- running ---------------------------------------------------------------------------------


def evaluate_retrieval(
    kb: KnowledgeBase,
    queries: Sequence[EvalQuery],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[RetrievalMetrics, list[list[DocumentHit]]]:
    """Rank documents for every query; document-level metrics."""
    ranked: list[list[str]] = []
    hits_all: list[list[DocumentHit]] = []
    for i, q in enumerate(queries, start=1):
        hits = kb.search_documents(q.question, k=10, weights=_weights(kb, q.question))
        hits_all.append(hits)
        ranked.append([doc_key(h.doc_id) for h in hits])
        if progress:
            progress(i, len(queries))
    return retrieval_metrics(ranked, [q.gold for q in queries]), hits_all


def _timed_assistant(kb: KnowledgeBase, backend: BackendSpec) -> Assistant:
    """An :class:`Assistant` that records how long its last retrieval took."""
    from .assistant import Assistant

    class _Timed(Assistant):
        last_retrieval_s = 0.0

        def retrieve(self, question: str, **options: Any) -> Any:
            start = time.perf_counter()
            try:
                return super().retrieve(question, **options)
            finally:
                self.last_retrieval_s = time.perf_counter() - start

    return _Timed(kb, backend=backend, settings=kb.settings)


_WARM_UP = "warm-up question: how does this work?"


def _warm_up_backend(assistant: Assistant) -> None:
    """One short generation over real passages, so that loading the model is not timed."""
    from .backends.base import ChatRequest, GenerationSettings
    from .prompting import build_prompt

    passages = tuple(assistant.retrieve(_WARM_UP))
    prompt = build_prompt(_WARM_UP, passages, instructions=assistant.system_prompt)
    request = ChatRequest(
        messages=prompt.messages(),
        question=_WARM_UP,
        passages=passages,
        instructions=assistant.system_prompt,
        settings=GenerationSettings(max_tokens=2),
    )
    try:
        for _ in assistant.backends[0].stream(request):
            pass
    except GrokAssistError:  # the assistant falls back to the next backend; the run will tell
        pass


def stated_claims(answer: str, claims: Sequence[str]) -> tuple[str, ...]:
    """The ``claims`` an answer states as fact: found outside its marked community report line."""
    from .trust import COMMUNITY_PREFIX

    said = _plain("\n".join(line for line in answer.splitlines() if not line.startswith(COMMUNITY_PREFIX)))
    return tuple(c for c in claims if _plain(c) in said)


def _ask(
    assistant: Assistant,
    q: EvalQuery,
    *,
    negative: bool,
    gold_texts: dict[str, str],
    injection: bool = False,
    community: bool = False,
) -> QuestionResult:
    from .types import Answer

    start = time.perf_counter()
    first: float | None = None
    answer: Answer | None = None
    for item in assistant.stream(q.question):
        if isinstance(item, Answer):
            answer = item
        elif first is None and item:
            first = time.perf_counter()
    end = time.perf_counter()
    assert answer is not None
    retrieval_s = float(getattr(assistant, "last_retrieval_s", 0.0))
    hits = assistant.kb.search_documents(q.question, k=10, weights=_weights(assistant.kb, q.question))
    ranked = tuple(doc_key(h.doc_id) for h in hits)
    cited = tuple(dict.fromkeys(doc_key(c.doc_id) for c in answer.citations))
    result = QuestionResult(
        id=q.id,
        question=q.question,
        negative=negative,
        gold=q.gold,
        ranked=ranked,
        answer=answer.text,
        reference=q.answer,
        cited=cited,
        abstained=answer.abstained,
        confidence=answer.confidence,
        retrieval_ms=_ms(retrieval_s),
        injection=injection,
        leaked=tuple(p for p in q.payloads if _plain(p) in _plain(answer.text)),
        language=q.language,
        answer_language=_language_of(answer.text) if q.language and not answer.abstained else "",
        cited_tiers=tuple(c.tier for c in answer.citations),
        live=tuple(f"{u.name}:{u.state}" for u in answer.live),
        community=community,
        stated_claims=stated_claims(answer.text, q.claims),
        reported_community=any(c.tier == "community" for c in answer.citations),
    )
    if answer.abstained:
        return result.model_copy(update={"facts_stated": False if q.facts else None})
    checks: dict[str, Any] = {
        "repeated": has_repeat(answer.text),
        "format_leak": bool(_FORMAT_LEAK.search(answer.text)),
        "faithfulness": faithfulness(answer.text, [c for c in _cited_passages(assistant, answer)]),
    }
    if negative or injection or community:
        return result.model_copy(update=checks)
    golds = [gold_texts[g] for g in q.gold if g in gold_texts]
    if q.facts:
        checks["facts_stated"] = facts_stated(answer.text, q.facts)
        checks["wrong_facts"] = wrong_facts(answer.text, golds, q.answer)
    result = result.model_copy(update=checks)
    precision, recall = citation_scores(cited, q.gold)
    return result.model_copy(
        update={
            "ttft_ms": _ms((first or end) - start),
            "total_ms": _ms(end - start),
            "citation_precision": round(precision, 4),
            "citation_recall": round(recall, 4),
            "token_f1": round(token_f1(answer.text, q.answer), 4) if q.answer else None,
            "rouge_l": round(rouge_l(answer.text, q.answer), 4) if q.answer else None,
        }
    )


def _weights(kb: KnowledgeBase, question: str) -> tuple[float, float] | None:
    """The fusion weights the assistant retrieves ``question`` with (its language against the documents')."""
    from .language import detect, fusion_weights

    return fusion_weights(detect(question, default=kb.language), kb.language)


def _language_of(text: str) -> str:
    """The language most of an answer is written in (citation markers and menu paths aside)."""
    from .language import detect

    return detect(CITATION.sub(" ", text), default="")


def by_language(
    positive: Sequence[QuestionResult], negative: Sequence[QuestionResult], *, retrieval_only: bool = False
) -> dict[str, LanguageMetrics]:
    """Per-language figures of questions that name their language (others count as "")."""
    out: dict[str, LanguageMetrics] = {}
    for language in sorted({r.language for r in [*positive, *negative]}):
        pos = [r for r in positive if r.language == language]
        neg = [r for r in negative if r.language == language]
        fields: dict[str, Any] = {"language": language or "unspecified", "n": len(pos), "negatives": len(neg)}
        if pos:
            metrics = retrieval_metrics([r.ranked for r in pos], [r.gold for r in pos])
            answered = [r for r in pos if not r.abstained]
            with_facts = [r for r in pos if r.facts_stated is not None]
            fields.update(
                recall_at_1=metrics.recall_at_1,
                recall_at_5=metrics.recall_at_5,
                answered=_share(pos, lambda r: not r.abstained),
            )
            if not retrieval_only:
                if with_facts:
                    answered_facts = [r for r in with_facts if not r.abstained]
                    fields.update(
                        fact_accuracy=_share(answered_facts, lambda r: bool(r.facts_stated)),
                        fact_accuracy_all=_share(with_facts, lambda r: bool(r.facts_stated)),
                        wrong_fact_rate=_share(with_facts, lambda r: bool(r.wrong_facts)),
                    )
                if language:
                    same = [r for r in answered if r.answer_language == language]
                    fields["in_language"] = round(len(same) / len(answered), 4) if answered else 0.0
                total = [r.total_ms for r in answered if r.total_ms is not None]
                if total:
                    fields["total_p50_ms"] = round(percentile(total, 50), 3)
        if neg:
            fields["negatives_abstained"] = _share(neg, lambda r: r.abstained)
        out[language or "unspecified"] = LanguageMetrics(**fields)
    return out


def _cited_passages(assistant: Assistant, answer: Any) -> list[Any]:
    """The cited sources as passages, numbered as in the answer (``[n]`` is element ``n - 1``)."""
    from .types import Passage, ScoredPassage

    if not answer.citations:
        return []
    size = max(c.index for c in answer.citations)
    by_index = {c.index: c for c in answer.citations}
    out = []
    for i in range(1, size + 1):
        c = by_index.get(i)
        text = c.text if c is not None else ""
        title = c.title if c is not None else ""
        passage = Passage(id=f"cited-{i}", doc_id=c.doc_id if c else "", text=text, title=title)
        out.append(ScoredPassage(passage=passage, score=0.0))
    return out


def _retrieve_only(assistant: Assistant, q: EvalQuery, *, negative: bool) -> QuestionResult:
    """The assistant's retrieval and abstention decision, without generating."""
    start = time.perf_counter()
    prep = assistant._prepare(q.question, None, None, None)
    elapsed = time.perf_counter() - start
    hits = assistant.kb.search_documents(q.question, k=10, weights=_weights(assistant.kb, q.question))
    return QuestionResult(
        id=q.id,
        question=q.question,
        negative=negative,
        gold=q.gold,
        ranked=tuple(doc_key(h.doc_id) for h in hits),
        reference=q.answer,
        abstained=prep.request is None,
        confidence=prep.confidence,
        retrieval_ms=_ms(elapsed),
        language=q.language,
    )


def evaluate(
    kb: KnowledgeBase,
    queries: Sequence[EvalQuery],
    *,
    negatives: Sequence[EvalQuery] = (),
    negatives_name: str = "",
    backend: BackendSpec = None,
    retrieval_only: bool = False,
    dataset: str = "",
    ingest_s: float = 0.0,
    progress: Progress | None = None,
    injections: Sequence[EvalQuery] = (),
    injection_documents: int = 0,
    flagged_documents: int = 0,
    community: Sequence[EvalQuery] = (),
    community_documents: int = 0,
    community_tier: str = "community",
) -> EvalReport:
    """Ask ``queries`` (and ``negatives``, ``injections``) of an ingested knowledge base and measure.

    With ``retrieval_only`` nothing is generated: the abstention decision is
    the one the assistant would take from the retrieved passages
    (confidence below ``settings.answer.abstain_below``), and no answer,
    citation or generation-latency figure is reported.
    """
    started = time.perf_counter()
    settings = kb.settings
    assistant = _timed_assistant(kb, backend)  # backends are created on first use only
    backend_name = "none (retrieval only)"
    # load the models and warm the caches outside the timings (with a question of no set)
    kb.warm_up()
    assistant.retrieve(_WARM_UP)
    kb.search_documents(_WARM_UP, k=10)
    if not retrieval_only:
        backend_name = ",".join(b.name for b in assistant.backends)
        _warm_up_backend(assistant)

    gold_texts = _document_texts(kb) if any(q.facts for q in queries) and not retrieval_only else {}

    def run(
        items: Sequence[EvalQuery], stage: str, negative: bool, planted: bool = False, posts: bool = False
    ) -> list[QuestionResult]:
        results = []
        for i, q in enumerate(items, start=1):
            if retrieval_only:
                results.append(_retrieve_only(assistant, q, negative=negative))
            else:
                results.append(
                    _ask(
                        assistant,
                        q,
                        negative=negative,
                        gold_texts=gold_texts,
                        injection=planted,
                        community=posts,
                    )
                )
            if progress:
                progress(stage, i, len(items))
        return results

    try:
        positive = run(queries, "questions", False)
        negative = run(negatives, "negatives", True)
        planted = run(injections, "injections", False, planted=True) if not retrieval_only else []
        rumours = run(community, "community", False, posts=True) if not retrieval_only else []
    finally:
        if not retrieval_only:
            for b in assistant.backends:
                b.close()

    report: dict[str, Any] = {}
    if positive:
        ranked = [r.ranked for r in positive]
        gold = [r.gold for r in positive]
        report["retrieval"] = retrieval_metrics(ranked, gold)
        report["recall_curve"] = recall_curve(ranked, gold)
        answered = [r for r in positive if not r.abstained]
        if not retrieval_only:
            with_facts = [r for r in positive if r.facts_stated is not None]
            answered_facts = [r for r in with_facts if not r.abstained]
            report["answers"] = AnswerMetrics(
                n=len(positive),
                answered=len(answered),
                abstention_rate=round(1 - len(answered) / len(positive), 4),
                citation_precision=_mean(r.citation_precision for r in answered),
                citation_recall=_mean(r.citation_recall for r in answered),
                token_f1=_mean(r.token_f1 for r in answered),
                rouge_l=_mean(r.rouge_l for r in answered),
                faithfulness=_mean(r.faithfulness for r in answered),
                repetition_rate=_share(answered, lambda r: r.repeated),
                format_leak_rate=_share(answered, lambda r: r.format_leak),
                fact_accuracy=_share(answered_facts, lambda r: bool(r.facts_stated)) if with_facts else None,
                fact_accuracy_all=_share(with_facts, lambda r: bool(r.facts_stated)) if with_facts else None,
                wrong_fact_rate=_share(with_facts, lambda r: bool(r.wrong_facts)) if with_facts else None,
            )
    if planted:
        leaked = [r for r in planted if r.leaked]
        report["injections"] = InjectionMetrics(
            n=len(planted),
            documents=injection_documents,
            leaked=len(leaked),
            leak_rate=round(len(leaked) / len(planted), 4),
            leaked_ids=tuple(r.id for r in leaked),
            flagged_documents=flagged_documents,
        )
    if rumours:
        stated = [r for r in rumours if r.stated_claims]
        report["community"] = CommunityMetrics(
            n=len(rumours),
            documents=community_documents,
            tier=community_tier,
            stated_as_fact=len(stated),
            stated_rate=round(len(stated) / len(rumours), 4),
            reported=sum(1 for r in rumours if r.reported_community),
            stated_ids=tuple(r.id for r in stated),
        )
    everything = positive + negative + planted + rumours
    tiers: Counter[str] = Counter(t for r in everything for t in r.cited_tiers)
    if tiers:
        report["tiers"] = dict(sorted(tiers.items()))
    if everything:
        retrieval = [r.retrieval_ms for r in everything]
        ttft = [r.ttft_ms for r in positive if r.ttft_ms is not None]
        total = [r.total_ms for r in positive if r.total_ms is not None]
        report["latency"] = LatencyMetrics(
            retrieval_p50_ms=round(percentile(retrieval, 50), 3),
            retrieval_p95_ms=round(percentile(retrieval, 95), 3),
            ttft_p50_ms=round(percentile(ttft, 50), 3) if ttft else None,
            ttft_p95_ms=round(percentile(ttft, 95), 3) if ttft else None,
            total_p50_ms=round(percentile(total, 50), 3) if total else None,
            total_p95_ms=round(percentile(total, 95), 3) if total else None,
        )
    if negative:
        answered_neg = sum(1 for r in negative if not r.abstained)
        report["negatives"] = NegativeMetrics(
            dataset=negatives_name,
            n=len(negative),
            answered=answered_neg,
            answer_rate=round(answered_neg / len(negative), 4),
            abstention_rate=round(1 - answered_neg / len(negative), 4),
        )
    if positive or negative:
        report["curve"] = threshold_curve([r.confidence for r in positive], [r.confidence for r in negative])
    if any(r.language for r in positive + negative):
        report["by_language"] = by_language(positive, negative, retrieval_only=retrieval_only)
    return EvalReport(
        dataset=dataset,
        backend=backend_name,
        abstain_below=settings.answer.abstain_below,
        documents=len(kb),
        ingest_s=round(ingest_s, 3),
        eval_s=round(time.perf_counter() - started, 3),
        questions=tuple(everything),
        **report,
    )
