"""The grounding guard: each sentence shown must be supported by a source it cites."""

from __future__ import annotations

from grokassist.guard.grounding import GroundingGuard, SourceFacts, check_sentence
from grokassist.types import Passage, ScoredPassage

REFUNDS = (
    "Refunds are issued to the original payment method within 10 business days after the warehouse "
    "receives the kit. Standby Mode costs $5 per month. Go to Account > Subscription > Pause service. "
    "You cannot pause a plan while a payment is overdue."
)
ROUTER = "Hold the pinhole button next to LAN 2 for 10 seconds. Router Gen 3 supports Wi-Fi 6 (802.11ax)."


def sp(i: int, text: str, title: str = "T") -> ScoredPassage:
    return ScoredPassage(passage=Passage(id=f"d{i}#0", doc_id=f"d{i}", text=text, title=title), score=1.0)


SOURCES = [SourceFacts.of(REFUNDS), SourceFacts.of(ROUTER)]


def test_a_restated_fact_is_supported_by_its_source() -> None:
    verdict = check_sentence(
        "Refunds reach your original payment method within 10 business days after the warehouse "
        "receives the kit.",
        SOURCES,
    )
    assert verdict.supported and verdict.sources[0] == 1


def test_numbers_units_prices_paths_and_codes_must_appear_in_the_source() -> None:
    for wrong in (
        "Refunds are issued within 5-7 business days after the warehouse receives the kit.",
        "Refunds are issued within 10 minutes after the warehouse receives the kit.",
        "Standby Mode costs $50 per month.",
        "Go to Account > Billing > Pause service.",
        "Router Gen 3 supports Wi-Fi 7 (802.11be).",
        "Call +1-855-555-0123 to pause the plan.",
        "Visit http://starlink-verify.example to get your refund.",
    ):
        assert not check_sentence(wrong, SOURCES).supported, wrong
    assert check_sentence("Standby Mode costs $5 per month.", SOURCES).supported
    assert check_sentence("Open Account > Subscription > Pause service.", SOURCES).supported
    assert check_sentence("Hold the pinhole button for ten seconds.", SOURCES).supported  # "ten" is 10


def test_a_list_number_is_the_lists_not_a_fact() -> None:
    """The extractive composer numbers steps: "5." is not a number the source must state."""
    source = [SourceFacts.of("- Solid white: online.\n- Off: no power.")]
    assert check_sentence("5. Off: no power [1].", source).supported
    assert not check_sentence("Off for 5 minutes: no power [1].", source).supported


def test_invented_content_and_flipped_polarity_are_unsupported() -> None:
    assert not check_sentence("Refunds are paid in gift cards and loyalty points.", SOURCES).supported
    assert not check_sentence("You can pause a plan while a payment is overdue.", SOURCES).supported
    assert check_sentence("You cannot pause a plan while a payment is overdue.", SOURCES).supported


def test_questions_prompt_format_and_headings_are_not_answers() -> None:
    sources = [SourceFacts.of(REFUNDS, "Refunds and cancellation")]
    for text in (
        "Question: How long do refunds take?",
        "How long do refunds take?",
        "Refunds and cancellation",
    ):
        assert not check_sentence(text, sources).supported, text


def test_the_guard_streams_checked_sentences_and_repoints_citations() -> None:
    guard = GroundingGuard([sp(0, REFUNDS, "Refunds"), sp(1, ROUTER, "Router")])
    shown = guard.feed("Hold the pinhole button next to LAN 2 for 10 seconds [1]. Standby")
    assert shown == "Hold the pinhole button next to LAN 2 for 10 seconds [2]."  # [1] does not say it
    assert guard.feed(" Mode is free for the first 3 months [1]. ") == ""  # dropped, not shown
    assert guard.feed("Standby Mode costs $5 per month [1].") == ""  # incomplete: may go on
    rest = guard.flush()
    assert rest == " Standby Mode costs $5 per month [1]."
    assert [d.sentence for d in guard.dropped] == ["Standby Mode is free for the first 3 months [1]."]
    assert "free" not in guard.text and "$5" in guard.text
