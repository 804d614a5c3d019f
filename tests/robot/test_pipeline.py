"""The voice pipeline end to end with the real VAD, Whisper and Piper, heard in real time.

The model is scripted (a slow fake that streams a long answer word by word) so that
barge-in happens while it is still generating; the CLI test runs the real default model.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from grokassist import KnowledgeBase, load_settings
from grokassist.backends.base import ChatRequest
from grokassist.robot.audio import LiveSource, MemoryOutput, read_wav
from grokassist.robot.gate import OPTIMUS_RULES, RobotState, SafetyGate
from grokassist.robot.runtime import RobotAssistant, VoicePipeline
from grokassist.robot.tts import speakable
from grokassist.testing import FakeBackend, StreamProbe
from grokassist.types import Chunk

from .conftest import AUDIO

pytestmark = [pytest.mark.slow]


def grounded_reply(request: ChatRequest) -> str:
    """A long answer the grounding guard keeps: sentences of the sources, each citing its own."""
    cited = [
        f"{s.strip().rstrip('.')} [{number}]."
        for number, scored in enumerate(request.passages, 1)
        for s in re.split(r"(?<=[.!?])\s+", scored.passage.text)
        if len(s.split()) >= 6 and "|" not in s and not s.lstrip().startswith(("#", "-", "*"))
    ]
    return " ".join(cited[:10])


class SlowBackend(FakeBackend):
    """Streams its reply a word every ``delay`` seconds, like a slow local model."""

    def __init__(self, delay: float = 0.08) -> None:
        super().__init__(grounded_reply)
        self.delay = delay
        self.replies: list[str] = []

    def _reply(self, request: ChatRequest) -> str:
        reply = super()._reply(request)
        self.replies.append(reply)
        return reply

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        for chunk in super().stream(request):
            time.sleep(self.delay)
            yield chunk


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("data"), kb="optimus")
    base = KnowledgeBase("optimus", settings=settings)
    base.ingest(Path(__file__).resolve().parents[2] / "examples" / "optimus" / "docs")
    return base


@pytest.fixture(scope="module")
def speech() -> Iterator[dict[str, Any]]:
    from grokassist.robot.stt import WhisperSTT
    from grokassist.robot.tts import PiperTTS
    from grokassist.robot.vad import SileroVAD

    vad = SileroVAD()
    yield {"vad": vad, "stt": WhisperSTT(), "tts": PiperTTS}
    vad.close()


async def until(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return False


def test_barge_in_stops_audio_closes_generation_and_keeps_spoken_words(
    kb: KnowledgeBase, speech: Any
) -> None:
    slow = SlowBackend()
    probe = StreamProbe(slow)
    assistant = RobotAssistant(kb, backend=probe, settings=kb.settings)
    output = MemoryOutput()
    tts = speech["tts"]()
    state = RobotState(battery_pct=70)
    pipeline = VoicePipeline(
        assistant,
        vad=speech["vad"],
        stt=speech["stt"],
        tts=tts,
        output=output,
        gate=SafetyGate(OPTIMUS_RULES, state=lambda: state),
    )
    source = LiveSource(duration=45)
    seen: dict[str, Any] = {}

    async def script() -> None:
        await asyncio.sleep(0.5)
        source.say(*read_wav(AUDIO / "long_answer.wav"))
        assert await until(lambda: pipeline.records and pipeline.records[0].first_audio is not None, 30)
        first = pipeline.records[0]
        await asyncio.sleep(1.0)
        # a hum while it talks: playback pauses, then goes on
        source.say(*read_wav(AUDIO / "hmm.wav"))
        assert await until(lambda: any(b.get("false_interruption") for b in pipeline.bargeins), 10)
        assert not first.interrupted
        await asyncio.sleep(0.8)
        seen["before_question"] = len(probe.streams)
        source.say(*read_wav(AUDIO / "estop.wav"))
        assert await until(lambda: first.interrupted, 10)
        assert await until(
            lambda: len(pipeline.records) >= 2 and pipeline.records[-1].first_audio is not None, 30
        )
        await pipeline.player.wait_idle()
        await asyncio.sleep(0.3)
        source.close()

    async def main() -> None:
        try:
            await pipeline.warm_up()
            probe.streams.clear()
            slow.replies.clear()
            task = asyncio.create_task(script())
            await pipeline.run(source)
            await task
        finally:
            await tts.aclose()

    asyncio.run(main())
    first, second = pipeline.records[0], pipeline.records[-1]
    assert first.transcript.lower().startswith("tell me everything about charging")
    assert "emergency stop" in second.transcript.lower()
    # the cough did not interrupt; the question did
    noise = [b for b in pipeline.bargeins if b.get("false_interruption")]
    real = [b for b in pipeline.bargeins if b.get("confirmed")]
    assert noise and real and real[0]["turn"] == first.id
    # audio stopped within 150 ms of the detected speech, and never played again
    slices = [t for t, turn, _ in output.slices if turn == first.id]
    stop_ms = (max(slices) + 0.02 - real[0]["detected"]) * 1000
    assert stop_ms <= 150, stop_ms
    assert not [t for t in slices if t > real[0]["confirmed_at"]]
    # the generation was closed while it was still running, and produced nothing after
    stream = probe.streams[0]
    assert stream["closed"] is not None and not stream["done"]
    assert not [t for t in stream["chunks"] if t > stream["closed"]]  # type: ignore[union-attr]
    reply = slow.replies[0]
    assert len(reply.split()) > 60, reply  # a long answer
    assert len(stream["chunks"]) < len(reply.split())  # type: ignore[arg-type]
    # the history holds only the words that were played
    history = pipeline.history.history("owner")  # type: ignore[union-attr]
    assert history[0].content == first.transcript
    assert history[1].content == f"{first.spoken_text} …"
    assert first.spoken_text and speakable(reply).startswith(first.spoken_text.rstrip(" ."))
    assert len(first.spoken_text) < len(speakable(reply)) / 2
    # and the new question was answered after it
    assert second.first_audio is not None and second.first_audio > max(slices)
    assert [k for _, k, _ in output.slices if k not in (first.id, second.id)] == []


def test_end_of_turn_and_speculation(kb: KnowledgeBase, speech: Any) -> None:
    """A pause inside the utterance ("Optimus, ...") does not end the turn; the answer waits for the end."""
    backend = FakeBackend(["The E-stop is the red button on the upper back [1]."])
    assistant = RobotAssistant(kb, backend=backend, settings=kb.settings)
    output = MemoryOutput()
    tts = speech["tts"]()
    pipeline = VoicePipeline(
        assistant, vad=speech["vad"], stt=speech["stt"], tts=tts, output=output, options=None
    )
    source = LiveSource(duration=45)
    marks: dict[str, float] = {}

    async def script() -> None:
        await asyncio.sleep(0.5)
        _, marks["end"] = source.say(*read_wav(AUDIO / "estop.wav"))
        assert await until(lambda: pipeline.records and pipeline.records[-1].first_audio is not None, 30)
        await pipeline.player.wait_idle()
        source.close()

    async def main() -> None:
        try:
            await pipeline.warm_up()
            task = asyncio.create_task(script())
            await pipeline.run(source)
            await task
        finally:
            await tts.aclose()

    asyncio.run(main())
    record = [r for r in pipeline.records if not r.cancelled][-1]
    assert record.committed is not None and record.first_audio is not None
    assert record.first_audio >= record.committed  # never heard before the end of the turn
    assert record.committed - marks["end"] == pytest.approx(0.64, abs=0.25)
    assert record.spoken_text == "The E-stop is the red button on the upper back."
    assert pipeline.history.history("owner")[-1].content == record.spoken_text  # type: ignore[union-attr]
