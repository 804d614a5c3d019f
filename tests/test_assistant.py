from typing import Any

import pytest

from grokassist.assistant import ABSTAIN_TEXT, Assistant
from grokassist.backends.extractive import ExtractiveBackend
from grokassist.errors import BackendConnectionError, BackendError
from grokassist.testing import FakeBackend
from grokassist.types import Answer


def test_answers_with_citations_from_the_right_document(kb: Any) -> None:
    answer = Assistant(kb, backend=ExtractiveBackend()).ask("How do I factory reset the Gen 3 router?")
    assert not answer.abstained
    assert answer.citations and answer.citations[0].doc_id == "router/reset-gen3.md"
    assert f"[{answer.citations[0].index}]" in answer.text
    assert "pinhole reset button" in answer.text
    assert answer.backend == "extractive" and 0 < answer.confidence <= 1


def test_abstains_when_the_docs_do_not_cover_it(kb: Any) -> None:
    backend = FakeBackend(["should not be called [1]"])
    answer = Assistant(kb, backend=backend).ask("What is the capital of France?")
    assert answer.abstained and answer.text == ABSTAIN_TEXT
    assert answer.citations == ()
    assert [a.type for a in answer.actions] == ["offer_human"]
    assert backend.requests == []


def test_stream_yields_pieces_then_the_answer(kb: Any) -> None:
    items = list(
        Assistant(kb, backend=FakeBackend(["Move the dish [1]."])).stream("How do I fix an obstruction?")
    )
    assert all(isinstance(i, str) for i in items[:-1]) and isinstance(items[-1], Answer)
    assert "".join(items[:-1]) == "Move the dish [1]."  # type: ignore[arg-type]
    assert items[-1].citations[0].doc_id == "placement/obstructions.md"  # type: ignore[union-attr]


def test_followup_uses_the_conversation(kb: Any) -> None:
    assistant = Assistant(kb, backend=ExtractiveBackend())
    first = assistant.ask("How do I factory reset my Gen 3 router?", session="s1")
    assert first.citations[0].doc_id == "router/reset-gen3.md"
    follow = assistant.ask("and for the older router?", session="s1")
    assert not follow.abstained
    assert follow.citations[0].doc_id == "router/reset-gen2.md"
    assert "reset" in follow.query
    assert [m.role for m in assistant.history("s1")] == ["user", "assistant", "user", "assistant"]
    assert assistant.history("other") == []


def test_falls_back_to_the_next_backend(kb: Any) -> None:
    broken = FakeBackend(fail=BackendConnectionError("down", backend="remote"), name="remote")
    answer = Assistant(kb, backend=[broken, ExtractiveBackend()]).ask("How do I pause my service?")
    assert answer.backend == "extractive" and answer.citations
    assert len(broken.requests) == 1


def test_never_falls_back_after_text_was_streamed(kb: Any) -> None:
    broken = FakeBackend(
        ["Open the account page. Then two three [1]"], fail=BackendError("cut"), fail_after=5
    )
    assistant = Assistant(kb, backend=[broken, ExtractiveBackend()])
    with pytest.raises(BackendError, match="cut"):
        list(assistant.stream("How do I pause my service?"))


def test_ask_falls_back_even_after_the_backend_produced_text(kb: Any) -> None:
    broken = FakeBackend(["one two three [1]"], fail=BackendError("cut"), fail_after=2)
    answer = Assistant(kb, backend=[broken, ExtractiveBackend()]).ask("How do I pause my service?")
    assert answer.backend == "extractive" and "one two" not in answer.text


def test_stream_falls_back_when_nothing_was_shown_yet(kb: Any) -> None:
    broken = FakeBackend(["one two three [1]"], fail=BackendError("cut"), fail_after=0)
    items = list(Assistant(kb, backend=[broken, ExtractiveBackend()]).stream("How do I pause my service?"))
    answer = items[-1]
    assert isinstance(answer, Answer) and answer.backend == "extractive"
    assert "".join(i for i in items if isinstance(i, str)).strip() == answer.text.strip()


async def test_aask_falls_back_even_after_the_backend_produced_text(kb: Any) -> None:
    reply = "Open the account page and choose Manage subscription [1]. Then pick a date [1]."
    broken = FakeBackend([reply], fail=BackendError("cut"), fail_after=10)
    assistant = Assistant(kb, backend=[broken, ExtractiveBackend()])
    answer = await assistant.aask("How do I pause my service?")
    assert answer.backend == "extractive"
    shown = []
    with pytest.raises(BackendError, match="cut"):  # a checked sentence reached the caller: no fallback
        async for item in assistant.astream("How do I pause my service?"):
            shown.append(item)
    assert "".join(shown).startswith("Open the account page")


async def test_astream_falls_back_while_no_sentence_was_shown(kb: Any) -> None:
    broken = FakeBackend(["Open the account page and"], fail=BackendError("cut"), fail_after=3)
    items = [i async for i in Assistant(kb, backend=[broken, ExtractiveBackend()]).astream("How do I pause?")]
    assert isinstance(items[-1], Answer) and items[-1].backend == "extractive"


def test_every_backend_failing_is_an_error(kb: Any) -> None:
    a = FakeBackend(fail=BackendConnectionError("a down"), name="a")
    with pytest.raises(BackendError, match="every backend failed"):
        Assistant(kb, backend=[a]).ask("How do I pause my service?")


def test_uncited_model_output_is_attributed(kb: Any) -> None:
    answer = Assistant(
        kb, backend=FakeBackend(["Open the account page and choose Manage subscription."])
    ).ask("How do I pause my service?")
    assert answer.citations and answer.citations[0].doc_id == "billing/pause.md"
    assert answer.text.endswith("subscription [1].")


def test_filters_reach_retrieval(kb: Any) -> None:
    answer = Assistant(kb, backend=ExtractiveBackend()).ask(
        "How do I factory reset the router?", filters={"product": "router-gen2"}
    )
    assert {c.doc_id for c in answer.citations} == {"router/reset-gen2.md"}


def test_empty_question_is_rejected(kb: Any) -> None:
    from grokassist.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        Assistant(kb, backend=ExtractiveBackend()).ask("   ")


async def test_async_twins(kb: Any) -> None:
    assistant = Assistant(kb, backend=ExtractiveBackend())
    answer = await assistant.aask("How do I pause my service?", session="a")
    assert answer.citations[0].doc_id == "billing/pause.md"
    pieces = [p async for p in assistant.astream("How do I fix an obstruction?")]
    assert isinstance(pieces[-1], Answer) and pieces[-1].citations
    assert "".join(p for p in pieces if isinstance(p, str)).strip() == pieces[-1].text.strip()
    await assistant.aclose()


def test_a_looping_model_is_cut_at_the_repeat(kb: Any) -> None:
    # the loop differs only by a number: still a loop
    loop = "You can pause your service from the account page [1]. " + "".join(
        f"A paused service is not billed for {n} months [1]. " for n in range(1, 6)
    )
    items = list(Assistant(kb, backend=FakeBackend([loop])).stream("How do I pause my service?"))
    answer = items[-1]
    assert isinstance(answer, Answer)
    assert answer.text.startswith("You can pause your service from the account page [1].")
    assert "paused service is not billed for 2" not in answer.text
    assert "".join(i for i in items if isinstance(i, str)).strip() == answer.text.strip()


def test_unsupported_sentences_are_dropped_and_numbers_must_match(kb: Any) -> None:
    reply = (
        "You can pause your service from the account page under Manage subscription [1]. "
        "A paused service costs $5 per month [1]. "
        "Call our hotline at 555-0199 to pause [1]. "
        "A paused service is not billed, and you can resume it at any time [1]."
    )
    answer = Assistant(kb, backend=FakeBackend([reply])).ask("How do I pause my service?")
    assert "Manage subscription [1]." in answer.text and "resume it at any time [1]." in answer.text
    assert "$5" not in answer.text and "555-0199" not in answer.text
    assert answer.backend == "fake"


def test_nothing_supported_gives_the_extractive_answer(kb: Any) -> None:
    answer = Assistant(kb, backend=FakeBackend(["Pausing costs $40 and takes 3 weeks [1]."])).ask(
        "How do I pause my service?"
    )
    assert answer.backend == "extractive" and "$40" not in answer.text
    assert "Manage subscription" in answer.text and answer.citations[0].doc_id == "billing/pause.md"


def test_a_model_that_says_the_sources_do_not_answer_makes_the_assistant_abstain(kb: Any) -> None:
    answer = Assistant(kb, backend=FakeBackend(["I don't know."])).ask("How do I pause my service?")
    assert answer.abstained and answer.text == ABSTAIN_TEXT
    assert answer.actions[0].params["reason"] == "not_in_sources"


def test_a_custom_system_prompt_reaches_the_backend(kb: Any) -> None:
    backend = FakeBackend(["You can pause your service from the account page [1]."])
    Assistant(kb, backend=backend, system_prompt="Answer like a pirate.").ask("How do I pause my service?")
    request = backend.requests[0]
    assert request.instructions == "Answer like a pirate."
    assert request.messages[0].content == "Answer like a pirate."


def test_the_output_guard_runs_in_the_sdk(kb: Any) -> None:
    secret = "sk-test-0123456789abcdef"
    reply = f"You can pause your service from the account page [1]. Your key is {secret} [1]."
    assistant = Assistant(kb, backend=FakeBackend([reply]), secrets=[secret])
    items = list(assistant.stream("How do I pause my service?"))
    assert secret not in "".join(i for i in items if isinstance(i, str))
    answer = items[-1]
    assert isinstance(answer, Answer) and secret not in answer.text
