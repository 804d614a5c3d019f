import pytest

from grokassist.backends.base import ChatRequest, collect
from grokassist.backends.extractive import ExtractiveBackend
from grokassist.testing import check_backend_conformance, check_backend_conformance_async
from grokassist.types import Message, Passage, ScoredPassage


def _request(question: str) -> ChatRequest:
    texts = [
        (
            "Obstructions",
            "Trees and roofs block the signal. Use the app's obstruction map to find a clear spot. "
            "Move the dish to a place with a clear view of the sky.",
        ),
        ("Billing", "You can pause your service from the account page. Paused service is not billed."),
    ]
    passages = tuple(
        ScoredPassage(
            passage=Passage(id=f"d{i}#0", doc_id=f"d{i}", text=t, title=title),
            score=1.0 - i * 0.1,
            dense_score=0.6,
        )
        for i, (title, t) in enumerate(texts)
    )
    return ChatRequest(
        messages=(Message(role="user", content=question),), question=question, passages=passages
    )


def test_picks_supporting_sentences_with_citations() -> None:
    text = collect(ExtractiveBackend().stream(_request("How do I pause my service?"))).text
    assert "pause your service" in text
    assert "[2]" in text and "[1]" not in text


def test_keeps_reading_order_and_cites_a_run_once() -> None:
    backend = ExtractiveBackend(max_sentences=2)
    text = collect(backend.stream(_request("obstruction map clear view dish"))).text
    assert text.count("[1]") == 1 and text.endswith("[1]")
    assert text.index("obstruction map") < text.index("clear view")


def test_a_list_of_steps_is_kept_whole_and_numbered() -> None:
    steps = "To pause:\n1. Open the app.\n2. Tap Account.\n3. Tap Pause service.\n\n## Resuming\nTap Resume."
    passage = Passage(id="p#0", doc_id="p", text=steps, title="Pausing your service")
    request = ChatRequest(
        messages=(Message(role="user", content="pause service"),),
        question="How do I pause my service?",
        passages=(ScoredPassage(passage=passage, score=1.0, dense_score=0.7),),
    )
    text = collect(ExtractiveBackend().stream(request)).text
    assert text == "To pause:\n1. Open the app.\n2. Tap Account.\n3. Tap Pause service. [1]"


def test_no_passages_gives_empty_text() -> None:
    empty = ChatRequest(messages=(Message(role="user", content="x"),), question="x")
    assert collect(ExtractiveBackend().stream(empty)).text == ""


def test_conformance() -> None:
    check_backend_conformance(ExtractiveBackend(), _request("How do I pause my service?"))


@pytest.mark.asyncio
async def test_conformance_async() -> None:
    await check_backend_conformance_async(ExtractiveBackend(), _request("How do I pause my service?"))
