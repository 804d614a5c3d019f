"""The repetition guard cuts a looping model at its first repeat, numbers masked."""

from __future__ import annotations

from grokassist.guard import RepetitionGuard


def test_streams_at_once_and_holds_back_only_a_possible_repeat() -> None:
    guard = RepetitionGuard()
    assert guard.feed("First sentence is") == "First sentence is"  # nothing to repeat yet
    assert guard.feed(" here. Second one") == " here. Second one"
    assert guard.feed(" follows now. First") == " follows now. "  # "First" may start a repeat
    assert guard.feed(" sentence") == ""
    assert guard.feed(" is here. More") == ""
    assert guard.tripped and guard.flush() == ""
    assert guard.text == "First sentence is here. Second one follows now."

    diverging = RepetitionGuard()
    diverging.feed("Open the account page first. ")
    assert diverging.feed("Open the") == ""
    assert diverging.feed(" door") == "Open the door"  # no longer an earlier sentence's start
    assert not diverging.tripped


def test_repeats_that_differ_only_by_a_number_are_a_loop() -> None:
    guard = RepetitionGuard()
    shown = "".join(guard.feed(f"$100 for a {n}-year plan. ") for n in range(1, 17))
    assert guard.tripped
    assert shown.strip() == "$100 for a 1-year plan."


def test_short_repeats_and_distinct_sentences_pass() -> None:
    guard = RepetitionGuard()
    text = "Yes. Yes. Unplug the router from the wall. Plug the router back in after 10 seconds."
    assert guard.feed(text) + guard.flush() == text
    assert not guard.tripped
