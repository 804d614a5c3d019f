"""Whether the sources answer a question: personal cases, and the kind of fact asked for."""

from __future__ import annotations

from grokassist.answerability import answerability, answers, expects, personal_case, subject_names
from grokassist.types import Passage, ScoredPassage

PLANS = (
    "| Plan | Price |\n|---|---|\n| Residential | $120/month |\n| Roam 50 GB | $50/month |\n\n"
    "The Mini Vehicle Mount attaches to roof rails with two clamps."
)


def sp(text: str, title: str = "Plans") -> ScoredPassage:
    return ScoredPassage(passage=Passage(id="p#0", doc_id="p", text=text, title=title), score=1.0)


def test_what_a_question_asks_for() -> None:
    assert expects("How much is the Residential plan?") == "price"
    assert expects("What does it cost per month?") == "price"
    assert expects("How much data do I get?") is None
    assert expects("How long do refunds take?") == "duration"
    assert expects("How many mesh nodes can I add?") == "count"
    assert expects("How do I reset the router?") is None
    assert (
        expects("How tall is the robot?") == "measure" and expects("What voltage does it need?") == "measure"
    )


def test_a_price_must_be_stated_of_the_thing_asked_about() -> None:
    assert subject_names("How much is the Mini Vehicle Mount?") == [{"mini", "vehicl", "mount"}]
    assert subject_names("Does the Mini Kit cost more than Roam Unlimited?") == [
        {"mini", "kit"},
        {"roam", "unlimit"},
    ]
    assert answerability("How much does the Residential plan cost?", [sp(PLANS)]).answerable
    assert not answerability("How much is the Mini Vehicle Mount?", [sp(PLANS)]).answerable
    assert not answerability("What does the Business plan cost?", [sp(PLANS)]).answerable
    assert answerability("What do Residential and the Mini Vehicle Mount cost?", [sp(PLANS)]).answerable
    assert answerability("How do I attach the Mini Vehicle Mount?", [sp(PLANS)]).answerable


def test_answers_check_the_kind_of_fact() -> None:
    assert answers("price", "It costs $120 per month.") and not answers("price", "It is great.")
    assert answers("duration", "within 10 business days") and not answers("duration", "soon")
    assert answers(None, "anything")
    assert answers("measure", "It stands 1.7 m tall.", "How tall is it?")
    assert not answers("measure", "It weighs 57 kg.", "How tall is it?")


def test_personal_cases_go_to_a_person() -> None:
    for question in (
        "Has my replacement dish shipped yet?",
        "Why did my support ticket from last Tuesday get closed?",
        "What position am I on the Residential waitlist?",
        "What is the status of my refund?",
    ):
        assert personal_case(question), question
        assert answerability(question, [sp(PLANS)]).reason == "personal_case"
    for question in ("How long do refunds take?", "Can I return my kit?", "My card got declined, what now?"):
        assert not personal_case(question), question
