"""The one place for text rules: sentences, units, streaming ends, checkable facts."""

from __future__ import annotations

import pytest

from grokassist.text import Fact, compounds, content_terms, facts, sentence_end, split_units


def test_table_rows_become_sentences_and_the_header_a_heading() -> None:
    units = split_units(
        "Intro line.\n\n| Light | Meaning | What to do |\n|---|---|---|\n"
        "| Solid red | Emergency stop engaged | Twist the button |\n| Off | Powered off | Charge it |"
    )
    assert [u.kind for u in units] == ["sentence", "heading", "row", "row"]
    assert units[2].text == "Solid red: Emergency stop engaged; Twist the button."


def test_sentence_end_waits_for_the_next_sentence_to_start() -> None:
    assert sentence_end("Restart the router.") == 0  # it may still go on ("... 2.4 GHz")
    text = "Restart the router. Then wait"
    assert text[: sentence_end(text)] == "Restart the router."
    assert sentence_end("Use e.g. the app") == 0
    assert sentence_end("1. Open the app\n2. Tap") == len("1. Open the app")


def test_numbers_keep_their_unit_and_words_count_as_numbers() -> None:
    assert Fact("number", "10", "day") in facts("within 10 business days")
    assert Fact("number", "2", "second") in facts("hold it for two seconds")
    assert Fact("number", "1000", "$") in facts("costs $1,000/month")
    assert Fact("number", "2.4", "ghz") in facts("the 2.4 GHz band")
    assert Fact("number", "50", "%") in facts("about 50% of the time")
    assert Fact("number", "3", "") in facts("Router Gen 3: the front light")  # no unit after a colon


def test_codes_paths_links_and_phones() -> None:
    found = facts("Go to **Settings > Advanced > Bypass mode** if E-602 shows; see https://x.example/a.")
    assert Fact("path", "settings > advanced > bypass mode") in found
    assert Fact("code", "e602") in found and not any(f.value == "602" for f in found)
    assert Fact("link", "x.example/a") in found
    assert any(f.kind == "phone" for f in facts("Call +1-855-555-0123 now."))


def test_list_numbers_are_not_facts() -> None:
    assert not [f for f in facts("1. Open the app\n2. Tap Reset") if f.kind == "number"]


def test_short_hyphenated_compounds_are_also_words_joined() -> None:
    assert compounds("Wi-Fi 6, e-mail, add-on, Gen-3, self-aligning") == ["wifi", "email", "addon"]
    assert "wifi" in content_terms("Connect to the Wi-Fi network")


@pytest.mark.timeout(20)
def test_menu_paths_are_found_without_backtracking_blow_up() -> None:
    """A long run of arrows with no ending punctuation (seen in a small model's output) once took
    exponential time in the menu-path pattern and hung the grounding guard."""
    # the last item is longer than a menu item may be: no path, and found out at once
    assert not [f for f in facts("go to  settings  >  " * 40 + "x" * 60 + " y") if f.kind == "path"]
    assert Fact("path", "settings > advanced > reset obstruction map") in facts(
        "After moving the dish, go to Settings > Advanced > Reset Obstruction Map."
    )
