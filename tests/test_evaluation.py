"""Evaluation: metrics, the evaluate() run, the markdown report and the eval command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from grokassist.cli import app
from grokassist.config import Settings, load_settings
from grokassist.errors import ConfigurationError
from grokassist.evaluation import (
    EvalQuery,
    citation_scores,
    evaluate,
    ingest_dataset,
    load_queries,
    percentile,
    recall_curve,
    retrieval_metrics,
    rouge_l,
    threshold_curve,
    token_f1,
)
from grokassist.knowledge import KnowledgeBase
from grokassist.testing import FakeBackend

ARTICLES = {
    "0000": "# Reset the router\n\nHold the reset button on the back of the router for ten seconds. "
    "The light blinks white while the router restarts with factory settings.\n",
    "0001": "# Invoices\n\nInvoices are emailed on the first day of each month. "
    "You can download past invoices from the billing page of your account.\n",
    "0002": "# Fix obstructions\n\nTrees and roofs between the dish and the sky interrupt the signal. "
    "Run the obstruction checker in the app and move the dish to a clear spot.\n",
}
QUESTIONS = [
    {
        "id": "q0",
        "question": "How do I reset my router?",
        "gold": ["0000"],
        "answer": "Hold the reset button for ten seconds.",
    },
    {
        "id": "q1",
        "question": "When are invoices sent?",
        "gold": ["0001"],
        "answer": "On the first day of each month.",
    },
    {
        "id": "q2",
        "question": "Trees block my dish, what can I do?",
        "gold": ["0002"],
        "answer": "Move the dish to a clear spot.",
    },
]
OFF_TOPIC = [
    {"id": "n0", "question": "What is the recipe for a chocolate cake?", "gold": ["x"], "answer": ""},
    {"id": "n1", "question": "Who won the football world cup in 1998?", "gold": ["x"], "answer": ""},
]


def _dataset(
    root: Path, questions: list[dict[str, Any]] | None, articles: dict[str, str] | None = None
) -> Path:
    (root / "docs").mkdir(parents=True)
    for key, text in (articles or ARTICLES).items():
        (root / "docs" / f"{key}.md").write_text(text, encoding="utf-8")
    if questions is not None:
        (root / "queries.jsonl").write_text(
            "\n".join(json.dumps(q) for q in questions) + "\n", encoding="utf-8"
        )
    return root


# -- metrics ---------------------------------------------------------------------------------


def test_retrieval_metrics_and_recall_curve() -> None:
    ranked = [["a", "b", "c"], ["x", "y", "b"], ["z", "z", "z"]]
    gold = [["a"], ["b"], ["q"]]
    m = retrieval_metrics(ranked, gold)
    assert (m.n, m.recall_at_1, m.recall_at_5, m.recall_at_10) == (3, 0.3333, 0.6667, 0.6667)
    assert m.mrr_at_10 == round((1 + 1 / 3) / 3, 4)
    assert recall_curve(ranked, gold, max_k=3) == {1: 0.3333, 2: 0.3333, 3: 0.6667}
    assert retrieval_metrics([], []).n == 0


def test_token_f1_is_squad_style_and_ignores_citations() -> None:
    assert token_f1("Hold the button [1].", "hold button") == 1.0
    assert token_f1("completely different", "hold button") == 0.0
    # pred {press, reset, button} vs ref {hold, reset, button, ten, seconds}: 2 shared
    assert token_f1("press reset button", "hold reset button ten seconds") == pytest.approx(
        2 * (2 / 3 * 2 / 5) / (2 / 3 + 2 / 5)
    )
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0


def test_rouge_l_uses_the_longest_common_subsequence() -> None:
    # LCS "the cat on the mat" = 5 of 6 tokens on both sides
    assert rouge_l("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    assert rouge_l("mat the on", "on the mat") == pytest.approx(1 / 3)  # order matters, unlike token F1
    assert rouge_l("Hold it [2].", "hold it") == 1.0
    assert rouge_l("", "anything") == 0.0


def test_citation_scores_are_per_document() -> None:
    assert citation_scores(["a", "b"], ["a"]) == (0.5, 1.0)
    assert citation_scores(["a"], ["a", "c"]) == (1.0, 0.5)
    assert citation_scores([], ["a"]) == (0.0, 0.0)


def test_percentile_matches_numpy() -> None:
    values = [3.0, 1.0, 10.0, 7.5, 2.25, 8.0]
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    with pytest.raises(ValueError):
        percentile([], 50)


def test_threshold_curve_trades_answers_for_abstentions() -> None:
    curve = threshold_curve([0.9, 0.8, 0.4], [0.1, 0.3, 0.6], steps=10)
    by_t = {p.threshold: p for p in curve}
    assert by_t[0.0].answer_rate == 1.0 and by_t[0.0].abstention_rate_negatives == 0.0
    assert by_t[0.5].answer_rate == 0.6667 and by_t[0.5].abstention_rate_negatives == 0.6667
    assert by_t[1.0].answer_rate == 0.0 and by_t[1.0].abstention_rate_negatives == 1.0
    answers = [p.answer_rate for p in curve]
    abstains = [p.abstention_rate_negatives for p in curve]
    assert answers == sorted(answers, reverse=True) and abstains == sorted(abstains)  # type: ignore[type-var]
    assert threshold_curve([0.5], [])[0].abstention_rate_negatives is None


def test_load_queries_reports_bad_lines(tmp_path: Path) -> None:
    ds = _dataset(tmp_path / "ds", QUESTIONS)
    assert [q.id for q in load_queries(ds)] == ["q0", "q1", "q2"]
    (ds / "queries.jsonl").write_text('{"id": "q0", "question": "no gold"}\n')
    with pytest.raises(ConfigurationError, match=r"queries\.jsonl:1"):
        load_queries(ds)
    with pytest.raises(ConfigurationError, match=r"queries\.jsonl is missing"):
        load_queries(tmp_path)


# -- a whole run -----------------------------------------------------------------------------


@pytest.fixture
def eval_kb(tmp_path: Path, settings: Settings, embedder: Any) -> Any:
    kb = KnowledgeBase("evalset", settings=settings, embedder=embedder)
    ingest_dataset(kb, _dataset(tmp_path / "ds", QUESTIONS))
    yield kb
    kb.close()


def test_evaluate_scores_answers_citations_and_latency(eval_kb: KnowledgeBase) -> None:
    queries = [EvalQuery.model_validate(q) for q in QUESTIONS]
    negatives = [EvalQuery.model_validate(q) for q in OFF_TOPIC]

    # quotes the best source and cites it as [1]; for the invoice question it also
    # quotes the second source (another, non-gold article) and cites it as [2]
    def reply(r: Any) -> str:
        first = r.passages[0].passage.text.split(". ")[0]
        if "invoice" not in r.question:
            return f"{first} [1]."
        return f"{first} [1]. {r.passages[1].passage.text.split('. ')[0]} [2]."

    backend = FakeBackend(reply)
    stages: list[tuple[str, int, int]] = []
    report = evaluate(
        eval_kb,
        queries,
        negatives=negatives,
        negatives_name="off",
        backend=backend,
        progress=lambda *a: stages.append(a),
    )
    assert report.retrieval is not None and report.retrieval.recall_at_1 == 1.0
    assert report.recall_curve[1] == 1.0
    a = report.answers
    assert a is not None and a.n == 3 and a.answered == 3 and a.abstention_rate == 0.0
    assert a.citation_recall == 1.0
    assert a.citation_precision == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-4)
    assert 0.0 < a.token_f1 < 1.0 and 0.0 < a.rouge_l < 1.0
    lat = report.latency
    assert lat is not None and lat.ttft_p50_ms is not None and lat.total_p50_ms is not None
    assert 0 < lat.retrieval_p50_ms <= lat.retrieval_p95_ms
    assert lat.ttft_p50_ms <= lat.total_p95_ms  # type: ignore[operator]
    neg = report.negatives
    assert neg is not None and neg.n == 2 and neg.dataset == "off"
    assert neg.abstention_rate == 1.0  # cake and football are far from routers and invoices
    assert [q.negative for q in report.questions] == [False] * 3 + [True] * 2
    # the curve comes from the same run's confidences
    point = min(report.curve, key=lambda p: abs(p.threshold - report.abstain_below))
    assert point.answer_rate == 1.0 and point.abstention_rate_negatives == 1.0
    assert ("questions", 3, 3) in stages and ("negatives", 2, 2) in stages
    summary = report.summary()
    assert summary["recall@1"] == 1.0 and summary["answers"]["answered"] == 3
    assert summary["operating_point"]["threshold"] == report.abstain_below
    json.dumps(summary)


def test_abstained_questions_are_not_scored_as_answers(eval_kb: KnowledgeBase) -> None:
    # a model that says the sources do not answer makes the assistant abstain, whatever the confidence
    report = evaluate(
        eval_kb,
        [EvalQuery.model_validate(q) for q in QUESTIONS],
        backend=FakeBackend(lambda r: "I don't know."),
    )
    assert report.answers is not None
    assert report.answers.answered == 0 and report.answers.abstention_rate == 1.0
    assert report.answers.citation_precision == 0.0 and report.answers.token_f1 == 0.0
    assert report.latency is not None and report.latency.ttft_p50_ms is None
    assert all(q.abstained and q.citation_precision is None and q.ttft_ms is None for q in report.questions)


def test_retrieval_only_predicts_abstention_without_generating(eval_kb: KnowledgeBase) -> None:
    report = evaluate(
        eval_kb,
        [EvalQuery.model_validate(q) for q in QUESTIONS],
        negatives=[EvalQuery.model_validate(q) for q in OFF_TOPIC],
        retrieval_only=True,
    )
    assert report.answers is None and report.backend.startswith("none")
    assert report.negatives is not None and report.negatives.abstention_rate == 1.0
    assert all(q.answer == "" for q in report.questions)


def test_write_report_has_figures_and_plots(eval_kb: KnowledgeBase, tmp_path: Path) -> None:
    from grokassist.eval_report import main as report_main
    from grokassist.eval_report import write_report

    report = evaluate(
        eval_kb,
        [EvalQuery.model_validate(q) for q in QUESTIONS],
        negatives=[EvalQuery.model_validate(q) for q in OFF_TOPIC],
        negatives_name="off",
        backend="extractive:",
    )
    md = write_report(report, tmp_path / "rep", command="grokassist eval ds")
    text = md.read_text()
    assert "recall@1" in text and "citation precision" in text and "time to first token" in text
    assert "![trade-off](abstention_tradeoff.png)" in text and "**(current)**" in text
    for name in ("recall_at_k.png", "latency.png", "abstention_tradeoff.png"):
        assert (tmp_path / "rep" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "rep" / "results.json").read_text())
    assert len(data["questions"]) == 5 and data["answers"]["n"] == 3

    # trade-off curves of several runs, recomputed from their per-question confidences
    results = str(tmp_path / "rep" / "results.json")
    report_main([results, f"{results}+{results}", "--out", str(tmp_path / "t.png"), "--threshold", "0.5"])
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"


# -- the command -----------------------------------------------------------------------------


def test_eval_command_json_report_and_corpus_only_negatives(tmp_path: Path, settings: Settings) -> None:
    runner = CliRunner()
    data = str(settings.data_dir)
    ds = _dataset(tmp_path / "set", QUESTIONS)
    result = runner.invoke(
        app,
        ["--data-dir", data, "eval", str(ds), "-b", "extractive:", "--json", "--report", str(tmp_path / "r")],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["backend"] == "extractive" and summary["n"] == 3
    assert {"citation_precision", "token_f1", "rouge_l", "abstention_rate"} <= set(summary["answers"])
    assert {"retrieval_p95_ms", "ttft_p50_ms", "total_p95_ms"} <= set(summary["latency"])
    assert (tmp_path / "r" / "report.md").is_file()

    # a folder with docs/ only is a corpus: only the other set's questions are asked
    corpus = _dataset(
        tmp_path / "corpus",
        None,
        {"0100": "# Cakes\n\nBake the chocolate cake for 30 minutes at 180 degrees.\n"},
    )
    neg = runner.invoke(
        app, ["--data-dir", data, "eval", str(corpus), "--negatives", str(ds), "-b", "extractive:", "--json"]
    )
    assert neg.exit_code == 0, neg.output
    out = json.loads(neg.stdout.strip().splitlines()[-1])
    assert "n" not in out and out["negatives"]["n"] == 3 and out["negatives"]["dataset"] == "set"
    assert out["negatives"]["abstention_rate"] == 1.0

    missing = runner.invoke(app, ["--data-dir", data, "eval", str(corpus), "--json"])
    assert missing.exit_code == 3 and "not an evaluation set" in " ".join(missing.stderr.split())


def test_abstain_below_option_overrides_the_threshold(tmp_path: Path, settings: Settings) -> None:
    ds = _dataset(tmp_path / "set", QUESTIONS)
    result = CliRunner().invoke(
        app,
        [
            "--data-dir",
            str(settings.data_dir),
            "eval",
            str(ds),
            "--retrieval-only",
            "--abstain-below",
            "0",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["abstain_below"] == 0.0
    assert summary["operating_point"] == {
        "threshold": 0.0,
        "answer_rate": 1.0,
        "abstention_rate_negatives": None,
    }
    assert load_settings(data_dir=settings.data_dir).answer.abstain_below > 0.0


def test_figures_by_language() -> None:
    from grokassist.evaluation import QuestionResult, by_language

    def result(qid: str, language: str, **fields: Any) -> QuestionResult:
        return QuestionResult(id=qid, question="q", language=language, **fields)

    positive = [
        result("a", "id", gold=("x",), ranked=("x",), facts_stated=True, answer_language="id", total_ms=10.0),
        result(
            "b",
            "id",
            gold=("x",),
            ranked=("y", "z", "w", "v", "u", "x"),
            facts_stated=False,
            answer_language="en",
            total_ms=30.0,
            wrong_facts=("number:5 day",),
        ),
        result("c", "id", gold=("x",), ranked=("x",), abstained=True, facts_stated=False),
        result("d", "en", gold=("x",), ranked=("y", "x"), facts_stated=True, answer_language="en"),
    ]
    negative = [result("n1", "id", negative=True, abstained=True), result("n2", "id", negative=True)]
    figures = by_language(positive, negative)
    indonesian = figures["id"]
    assert (indonesian.n, indonesian.negatives) == (3, 2)
    assert indonesian.recall_at_1 == round(2 / 3, 4) and indonesian.recall_at_5 == round(2 / 3, 4)
    assert indonesian.answered == round(2 / 3, 4)
    assert indonesian.fact_accuracy == 0.5 and indonesian.fact_accuracy_all == round(1 / 3, 4)
    assert indonesian.wrong_fact_rate == round(1 / 3, 4)
    assert indonesian.in_language == 0.5 and indonesian.negatives_abstained == 0.5
    assert indonesian.total_p50_ms == 20.0
    assert figures["en"].recall_at_5 == 1.0 and figures["en"].negatives_abstained is None
