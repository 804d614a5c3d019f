"""What a ticket says, what triggers a handoff, and what personal data leaves the process."""

from __future__ import annotations

import pytest

from grokassist.handoff import Fired, HandoffSettings, after_answer, before_answer, build_escalation
from grokassist.handoff.redact import PersonalDataRedactor
from grokassist.handoff.tickets import draft_marker
from grokassist.types import Answer, Citation, Message

CITED = Citation(
    index=1,
    doc_id="router/factory-reset.md",
    title="Factory reset your router",
    source="",
    passage_id="router/factory-reset.md#0",
    text="Press and hold the pinhole reset button for 10 seconds.",
    score=0.8,
)
ANSWER = Answer(
    text="Press and hold the pinhole reset button for 10 seconds [1].",
    confidence=0.72,
    question="How do I reset my router?",
    citations=(CITED,),
    session_id="s",
)
UNSURE = Answer(
    text="I don't know.", confidence=0.1, abstained=True, question="Why is it blinking?", session_id="s"
)
TRANSCRIPT = [
    Message(role="user", content="How do I reset my router?"),
    Message(role="assistant", content=ANSWER.text),
    Message(role="user", content="Why is it blinking? Call me on +1 415 555 2671 or mail ana@example.com"),
    Message(role="assistant", content=UNSURE.text),
]


def test_the_ticket_tells_the_whole_story() -> None:
    settings = HandoffSettings(redact_personal_data=False)
    e = build_escalation(
        client="ip:1.2.3.4",
        transcript=TRANSCRIPT,
        answers=[UNSURE, ANSWER],
        fired=Fired("repeated_failure", "2"),
        settings=settings,
        session_id="s",
        reason="Still broken",
        contact="ana@example.com",
        metadata={"plan": "pro", "device": "Gen 3 router", "locale": "fr-FR"},
        sources_url="https://help.example.com/v1/sources",
    )
    ticket = e.ticket
    assert ticket.external_id == e.id and e.id.startswith("esc_")
    assert ticket.subject.startswith("The assistant failed to answer 2 times in a row: Why is it blinking?")
    assert "\n" not in ticket.subject
    assert ticket.priority == "high" and ticket.tags == ("grokassist", "grokassist-repeated-failure")
    assert ticket.requester_email == "ana@example.com"
    assert ticket.metadata == {"plan": "pro", "device": "Gen 3 router", "locale": "fr-FR"}
    body = ticket.body
    for expected in (
        "because the assistant failed to answer 2 times in a row",
        "The customer wrote: Still broken",
        "Contact: ana@example.com",
        "confidence in its last answer: 0.10 (abstained)",
        "Customer: How do I reset my router?",
        "Assistant: Press and hold the pinhole reset button",
        "- Factory reset your router (router/factory-reset.md): "
        "https://help.example.com/v1/sources/router/factory-reset.md",
        "plan: pro",
        "locale: fr-FR",
        f"Reference: {e.id}",
    ):
        assert expected in body, expected
    # the draft is the last answer that helped, with its sources, for the agent
    assert e.draft.startswith("Draft reply from the assistant (confidence 0.72)")
    assert ANSWER.text in e.draft and "Factory reset your router" in e.draft
    assert e.draft.endswith(draft_marker(e.id))
    assert e.status == "pending" and e.holds_conversation


def test_personal_data_is_redacted_before_it_leaves() -> None:
    e = build_escalation(
        client="ip:1.2.3.4",
        transcript=[
            *TRANSCRIPT,
            Message(
                role="user",
                content="Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, order 12345678",
            ),
        ],
        answers=[UNSURE],
        fired=Fired("requested"),
        settings=HandoffSettings(),
        contact="ana@example.com",
        metadata={"email": "bob@example.org"},
        redact=PersonalDataRedactor(phone_region="US"),
    )
    body = e.ticket.body
    assert "ana@example.com" not in body and "+1 415 555 2671" not in body
    assert "4111 1111 1111 1111" not in body and "DE89 3704" not in body
    assert "[email]" in body and "[phone]" in body and "[card]" in body and "[iban]" in body
    assert "order 12345678" in body, "an order number is not personal data"
    assert e.ticket.metadata == {"email": "[email]"}
    assert e.ticket.requester_email == "ana@example.com"  # the contact field is there to be used
    assert not e.draft  # no answer helped: no draft


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 020 7946 0958 please", "call 020 7946 0958 please"),  # not a valid US number
        ("call (415) 555-2671 please", "call [phone] please"),
        ("on 2024-05-01 at 10:30", "on 2024-05-01 at 10:30"),
        ("card 4111-1111-1111-1112 (bad check digit)", "card 4111-1111-1111-1112 (bad check digit)"),
        ("GB82 WEST 1234 5698 7654 32", "[iban]"),
    ],
)
def test_redaction_keeps_what_is_not_personal(text: str, expected: str) -> None:
    assert PersonalDataRedactor(phone_region="US")(text) == expected


def test_triggers() -> None:
    settings = HandoffSettings(keywords=["Cancel", "refund"], failed_in_a_row=2)
    assert before_answer("I want to CANCEL my plan", settings) == Fired("keyword", "cancel")
    assert before_answer("Is a cancellation free?", settings) == Fired("keyword", "cancel")
    assert before_answer("How do I reset it?", settings) is None
    assert before_answer("refund", HandoffSettings()) is None  # no keywords configured
    assert after_answer(ANSWER, [ANSWER], settings) is None
    assert after_answer(UNSURE, [UNSURE, ANSWER], settings) is None  # one failure
    assert after_answer(UNSURE, [UNSURE, UNSURE, ANSWER], settings) == Fired("repeated_failure", "2")
    assert after_answer(UNSURE, [UNSURE], HandoffSettings(on_abstain=True)) == Fired("abstained")
    assert after_answer(UNSURE, [UNSURE] * 5, HandoffSettings()) is None  # all off by default


def test_handoff_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKASSIST_HANDOFF_KEYWORDS", '["Refund", " complaint "]')
    monkeypatch.setenv("GROKASSIST_HANDOFF_DELIVERY", '{"max_attempts": 5, "lease_s": 30}')
    monkeypatch.setenv("GROKASSIST_HANDOFF_TICKETING_SECRET", "s3cret-password")
    settings = HandoffSettings()
    assert settings.keywords == ["refund", "complaint"]
    assert settings.delivery.max_attempts == 5 and settings.delivery.lease_s == 30
    assert "s3cret" not in repr(settings)
