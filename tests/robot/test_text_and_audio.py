"""Sentence aggregation, speakable text, the player's turn bookkeeping."""

from __future__ import annotations

import asyncio

from grokassist.robot.audio import MemoryOutput, Player, speech_bounds
from grokassist.robot.runtime import SpokenHistory, is_stop, looks_like_command
from grokassist.robot.stt import is_non_speech
from grokassist.robot.tts import SentenceAggregator, speakable
from grokassist.types import Message


def feed_all(aggregator: SentenceAggregator, pieces: list[str]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        out.extend(aggregator.feed(piece))
    return out + aggregator.flush()


def test_first_clause_early_then_sentences() -> None:
    text = (
        "When the battery is low, the robot walks to its dock by itself. "
        "Charging takes 3.5 hours, e.g. overnight. Done"
    )
    pieces = feed_all(
        SentenceAggregator(first_clause_words=4), [text[i : i + 3] for i in range(0, len(text), 3)]
    )
    assert pieces == [
        "When the battery is low,",
        "the robot walks to its dock by itself.",
        "Charging takes 3.5 hours, e.g. overnight.",
        "Done",
    ]
    assert feed_all(SentenceAggregator(first_clause_words=0), [text])[0].startswith(
        "When the battery is low, the"
    )


def test_a_list_number_is_not_a_sentence() -> None:
    assert feed_all(SentenceAggregator(), ["1. Going outdoors is refused. 2. So are roofs."]) == [
        "1. Going outdoors is refused.",
        "2. So are roofs.",
    ]


def test_speakable_drops_citations_and_markdown() -> None:
    assert (
        speakable("Press **Stop** [1]. Open Settings > Voice [2, 3].")
        == "Press Stop. Open Settings, then Voice."
    )


def test_routing_and_non_speech() -> None:
    assert is_stop("Stop.") and is_stop("Optimus, stop!") and is_stop("hey optimus stop now")
    assert not is_stop("Stop the music in the kitchen and tell me a joke")
    assert looks_like_command("Optimus, point to the charging dock.")
    assert looks_like_command("Can you bring me the remote?")
    assert not looks_like_command("How do I make it go to the kitchen?")
    for noise in ("", " you", "(coughs)", "[BLANK_AUDIO]", "Hmm.", "Uh, um.", "*cough*", "Thank you."):
        assert is_non_speech(noise), noise
    assert not is_non_speech("Stop.") and not is_non_speech("What about the dock?")


def test_player_plays_released_turns_drops_and_counts_spoken_words() -> None:
    async def scenario() -> tuple[MemoryOutput, Player]:
        output = MemoryOutput()
        player = Player(output)
        task = asyncio.create_task(player.run())
        second = b"\x01\x00" * 16000  # one second at 16 kHz
        player.open_turn(1)
        player.enqueue(1, 0, "one two three four", second, 16000)
        player.enqueue(1, 1, "five six", second, 16000)
        player.open_turn(2, hold=True)
        player.enqueue(2, 0, "held", second, 16000)
        await asyncio.sleep(1.8)  # the first sentence and more than half of the second
        assert player.spoken_text(1).startswith("one two three four five")
        player.drop(1)
        assert not player.enqueue(1, 2, "late", second, 16000) and player.stray_frames == 1
        await asyncio.sleep(0.1)
        assert output.first(2) is None  # held until released
        player.release(2)
        player.finish_turn(2)
        await asyncio.sleep(1.2)
        assert player.all_played(2)
        task.cancel()
        return output, player

    output, _player = asyncio.run(scenario())
    dropped_at = output.last(1)
    assert dropped_at is not None and all(t <= dropped_at for t, k, _ in output.slices if k == 1)
    assert output.first(2) is not None and output.first(2) > dropped_at  # type: ignore[operator]


def test_spoken_history_keeps_what_was_heard() -> None:
    history = SpokenHistory()
    history.append(
        "owner#3", Message(role="user", content="q"), Message(role="assistant", content="the full answer")
    )
    assert history.history("owner#4") == []  # the assistant's own record is held back
    history.record("owner#3", "How long?", "About three", interrupted=True)
    assert [m.content for m in history.history("owner")] == ["How long?", "About three …"]
    history.discard("owner#5")
    assert "owner#9" in history and len(history) == 1


def test_speech_bounds() -> None:
    import numpy as np

    samples = np.zeros(16000, dtype=np.int16)
    samples[4000:8000] = 8000
    start, end = speech_bounds(samples, 16000)
    assert abs(start - 0.25) < 0.011 and abs(end - 0.5) < 0.011


def test_espeak_fallback_speaks_in_its_own_process() -> None:
    import shutil

    import pytest

    from grokassist.robot.tts import EspeakTTS

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/install-system.sh installs it)")
    tts = EspeakTTS()
    pcm = asyncio.run(tts.synthesize("The emergency stop is on the upper back."))
    seconds = len(pcm) / 2 / tts.sample_rate
    assert 1.0 < seconds < 6.0
    assert asyncio.run(tts.synthesize("  ")) == b""


def test_robot_package_is_lazy() -> None:
    import subprocess
    import sys

    import grokassist.robot as robot

    # (the order of __all__ is ruff's RUF022: constants, classes, functions)
    for name in robot.__all__:
        assert getattr(robot, name) is not None, name
    code = (
        "import sys, grokassist.robot; "
        "print(','.join(m for m in ('paho', 'faster_whisper', 'piper') if m in sys.modules))"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        == ""
    )
