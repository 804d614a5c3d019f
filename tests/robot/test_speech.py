"""The real speech models on the committed question recordings: Silero VAD, turn detection, Whisper."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from grokassist.robot.audio import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame, read_wav
from grokassist.robot.vad import SileroVAD, SpeechPaused, SpeechStarted, TurnDetector, TurnEnded, WebRtcVAD

from .conftest import AUDIO

pytestmark = pytest.mark.slow


def frames(samples: np.ndarray, lead: float = 0.5, tail: float = 1.0) -> list[AudioFrame]:
    audio = np.concatenate(
        [np.zeros(int(lead * SAMPLE_RATE), np.int16), samples, np.zeros(int(tail * SAMPLE_RATE), np.int16)]
    )
    n = len(audio) // FRAME_SAMPLES
    return [
        AudioFrame(
            audio[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES].tobytes(),
            (i + 1) * FRAME_SAMPLES / SAMPLE_RATE,
        )
        for i in range(n)
    ]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


@pytest.fixture(scope="module")
def whisper():  # type: ignore[no-untyped-def]
    from grokassist.robot.stt import WhisperSTT

    return WhisperSTT()


def test_turn_detector_events_and_preroll() -> None:
    samples, rate = read_wav(AUDIO / "charge_time.wav")
    assert rate == SAMPLE_RATE
    vad = SileroVAD()
    try:
        detector = TurnDetector(vad)
        events = [e for f in frames(samples) for e in detector.process(f)]
    finally:
        vad.close()
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "SpeechStarted" and kinds[-1] == "TurnEnded" and "SpeechPaused" in kinds
    start = next(e for e in events if isinstance(e, SpeechStarted))
    assert 0.4 < start.speech_start < 0.75  # the speech starts 0.5 s in
    ended = next(e for e in events if isinstance(e, TurnEnded))
    duration = len(samples) / SAMPLE_RATE
    assert ended.time - ended.speech_end == pytest.approx(0.64, abs=0.07)
    # the segment keeps ~0.5 s from before the detected start
    assert len(ended.audio) / 2 / SAMPLE_RATE > duration
    assert any(isinstance(e, SpeechPaused) for e in events)


def test_webrtc_vad_detects_the_same_turn() -> None:
    samples, _ = read_wav(AUDIO / "estop.wav")
    detector = TurnDetector(WebRtcVAD())
    events = [e for f in frames(samples) for e in detector.process(f)]
    assert isinstance(events[0], SpeechStarted) and isinstance(events[-1], TurnEnded)


def test_whisper_fit_window_transcribes_the_questions(whisper) -> None:  # type: ignore[no-untyped-def]
    said = json.loads((AUDIO / "utterances.json").read_text())
    misses = 0
    total = 0
    for name in (
        "charge_time.wav",
        "estop.wav",
        "carry_limit.wav",
        "wake_word.wav",
        "point_dock.wav",
        "stop.wav",
    ):
        samples, _ = read_wav(AUDIO / name)
        pad = np.zeros(SAMPLE_RATE // 2, np.int16)
        heard = whisper.transcribe(np.concatenate([pad, samples, pad]).tobytes())
        expected = words(said[name])
        got = set(words(heard.text))
        misses += sum(w not in got for w in expected)
        total += len(expected)
    assert misses / total <= 0.1, f"{misses} of {total} words missed"


def test_whisper_hears_no_words_in_silence_and_a_hum(whisper) -> None:  # type: ignore[no-untyped-def]
    from grokassist.robot.stt import is_non_speech

    assert is_non_speech(whisper.transcribe(b"\x00\x00" * SAMPLE_RATE).text)
    samples, _ = read_wav(AUDIO / "hmm.wav")
    assert is_non_speech(whisper.transcribe(samples.tobytes()).text)


def test_models_are_pinned(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from grokassist.errors import ConfigurationError
    from grokassist.robot._models import verify_pinned

    fake = tmp_path / "model.bin"
    fake.write_bytes(b"not the model")
    monkeypatch.setenv("GROKASSIST_MODEL_DIR", str(tmp_path / "cache"))
    with pytest.raises(ConfigurationError, match="pip install --force-reinstall pkg==1"):
        verify_pinned(fake, "0" * 64, "pkg==1")
