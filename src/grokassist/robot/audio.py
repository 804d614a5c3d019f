"""Audio frames, sources and the player.

Everything inside the pipeline is 16-bit mono PCM. Input is 16 kHz in frames of
512 samples (32 ms, what Silero VAD takes); output keeps the text-to-speech
voice's own rate. Each frame carries the monotonic time at which its last
sample was captured, so latencies are measured on one clock.

Sources (:class:`AudioSource`): :class:`LiveSource` paces frames in real time,
silence unless speech was queued with :meth:`LiveSource.say` (tests and the
benchmark script a conversation with it); :class:`WavFileSource` plays files
through it; :class:`MicrophoneSource` reads ``arecord`` (ALSA) in real time.

The :class:`Player` owns playback: it writes 20 ms slices to an
:class:`AudioOutput` at real-time pace, so pausing or dropping audio takes
effect within one slice. Audio belongs to a *turn*; a cancelled turn's audio is
dropped and any that arrives later is refused, so it can never be played in a
later turn. The player counts what was actually played of each sentence, from
which the runtime knows the words the owner heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import wave
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigurationError, RobotError

__all__ = [
    "FRAME_SAMPLES",
    "SAMPLE_RATE",
    "AplayOutput",
    "AudioFrame",
    "AudioOutput",
    "AudioSource",
    "LiveSource",
    "MemoryOutput",
    "MicrophoneSource",
    "Player",
    "WavFileSource",
    "WavOutput",
    "read_wav",
    "resample",
    "speech_bounds",
]

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 512  # 32 ms at 16 kHz: Silero's window
FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
SLICE_SECONDS = 0.02  # playback granularity: a pause or a drop takes effect within one slice


@dataclass(frozen=True)
class AudioFrame:
    """32 ms of 16 kHz mono int16 PCM; ``time``: monotonic capture time of its last sample."""

    pcm: bytes
    time: float


@runtime_checkable
class AudioSource(Protocol):
    """Frames of microphone audio, paced in real time."""

    def frames(self) -> AsyncIterator[AudioFrame]: ...


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Int16 mono samples and the sample rate of a PCM WAV file (channels are averaged)."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
            raw = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise RobotError(f"cannot read the WAV file {path}: {exc}") from exc
    if width != 2:
        raise RobotError(f"{path}: only 16-bit PCM WAV is supported (this one has {8 * width}-bit samples)")
    samples = np.frombuffer(raw, dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return samples, rate


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Int16 samples from ``rate`` to ``target`` Hz (linear interpolation: enough for speech models)."""
    if rate == target or len(samples) == 0:
        return samples.astype(np.int16)
    n = round(len(samples) * target / rate)
    x = np.linspace(0, len(samples) - 1, n)
    return np.interp(x, np.arange(len(samples)), samples.astype(np.float32)).astype(np.int16)


def speech_bounds(samples: np.ndarray, rate: int, threshold: float = 0.02) -> tuple[float, float]:
    """Seconds of the first and last 10 ms window whose RMS exceeds ``threshold`` (of full scale)."""
    window = max(1, rate // 100)
    usable = len(samples) // window * window
    if usable == 0:
        return 0.0, 0.0
    x = samples[:usable].astype(np.float32).reshape(-1, window) / 32768.0
    rms = np.sqrt((x * x).mean(axis=1))
    loud = np.nonzero(rms > threshold)[0]
    if len(loud) == 0:
        return 0.0, 0.0
    return float(loud[0] * window / rate), float((loud[-1] + 1) * window / rate)


class LiveSource:
    """A real-time source: silence (or faint noise) unless speech was queued with :meth:`say`.

    ``say`` returns the monotonic times at which the queued audio's speech will
    start and end being captured, which is what latency measurements need.
    ``duration`` ends the stream after that many seconds; :meth:`close` ends it now.
    """

    def __init__(self, *, noise: float = 0.0005, duration: float | None = None, seed: int = 0) -> None:
        self.noise = noise
        self.duration = duration
        self._queue: deque[np.ndarray] = deque()
        self._pending = np.zeros(0, dtype=np.int16)
        self._rng = np.random.default_rng(seed)
        self._started: float | None = None
        self._next: float | None = None
        self._closed = False

    @property
    def started(self) -> float | None:
        return self._started

    def queued_seconds(self) -> float:
        return (len(self._pending) + sum(len(q) for q in self._queue)) / SAMPLE_RATE

    def say(self, samples: np.ndarray, rate: int = SAMPLE_RATE) -> tuple[float, float]:
        """Queue audio to be 'heard'; returns the monotonic (speech start, speech end) it will have."""
        audio = resample(samples, rate, SAMPLE_RATE)
        lead = self.queued_seconds()
        origin = self._next if self._next is not None else time.monotonic()
        begin, end = speech_bounds(audio, SAMPLE_RATE)
        self._queue.append(audio)
        return origin + lead + begin, origin + lead + end

    def close(self) -> None:
        self._closed = True

    async def frames(self) -> AsyncIterator[AudioFrame]:
        self._started = time.monotonic()
        self._next = self._started
        count = 0
        while not self._closed:
            if self.duration is not None and count * FRAME_SECONDS >= self.duration:
                return
            while len(self._pending) < FRAME_SAMPLES and self._queue:
                self._pending = np.concatenate([self._pending, self._queue.popleft()])
            if len(self._pending) >= FRAME_SAMPLES:
                chunk, self._pending = self._pending[:FRAME_SAMPLES], self._pending[FRAME_SAMPLES:]
            else:
                filler = self._noise(FRAME_SAMPLES - len(self._pending))
                chunk, self._pending = np.concatenate([self._pending, filler]), np.zeros(0, np.int16)
            self._next += FRAME_SECONDS
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            count += 1
            yield AudioFrame(chunk.astype("<i2").tobytes(), self._next)

    def _noise(self, n: int) -> np.ndarray:
        if self.noise <= 0:
            return np.zeros(n, dtype=np.int16)
        return (self._rng.standard_normal(n) * self.noise * 32767).astype(np.int16)


class WavFileSource(LiveSource):
    """WAV files heard in real time, one after the other, with ``gap`` seconds of silence around each."""

    def __init__(self, *paths: str | Path, gap: float = 0.5, tail: float = 4.0, **options: float) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.speech: list[tuple[float, float]] = []  # (start, end) offsets from the stream start
        offset = 0.0
        for path in paths:
            samples, rate = read_wav(path)
            audio = resample(samples, rate, SAMPLE_RATE)
            silence = np.zeros(int(gap * SAMPLE_RATE), dtype=np.int16)
            begin, end = speech_bounds(audio, SAMPLE_RATE)
            self.speech.append((offset + gap + begin, offset + gap + end))
            self._queue.extend([silence, audio])
            offset += gap + len(audio) / SAMPLE_RATE
        self.duration = offset + tail if self.duration is None else self.duration


class MicrophoneSource:
    """The default ALSA capture device through ``arecord`` (Debian package ``alsa-utils``)."""

    def __init__(self, device: str | None = None) -> None:
        if shutil.which("arecord") is None:
            raise ConfigurationError(
                "--audio-in mic needs arecord: apt-get install alsa-utils (or pass a WAV file)"
            )
        self.device = device

    async def frames(self) -> AsyncIterator[AudioFrame]:
        args = ["arecord", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(SAMPLE_RATE)]
        if self.device:
            args += ["-D", self.device]
        proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        try:
            while True:
                try:
                    pcm = await proc.stdout.readexactly(FRAME_SAMPLES * 2)
                except asyncio.IncompleteReadError:
                    code = await proc.wait()
                    raise RobotError(f"the microphone stopped (arecord exited with {code})") from None
                yield AudioFrame(pcm, time.monotonic())
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


# -- output -----------------------------------------------------------------------


@runtime_checkable
class AudioOutput(Protocol):
    """Where played audio goes (a sound card, a file, memory). ``write`` must not block for long."""

    def write(self, pcm: bytes, sample_rate: int, turn: int) -> None: ...


class MemoryOutput:
    """Keeps every slice written, with the monotonic time it was written and its turn."""

    def __init__(self) -> None:
        self.slices: list[tuple[float, int, int]] = []  # (time, turn, samples)
        self.audio: list[bytes] = []

    def write(self, pcm: bytes, sample_rate: int, turn: int) -> None:
        self.slices.append((time.monotonic(), turn, len(pcm) // 2))
        self.audio.append(pcm)

    def first(self, turn: int) -> float | None:
        return next((t for t, k, _ in self.slices if k == turn), None)

    def last(self, turn: int) -> float | None:
        return next((t for t, k, _ in reversed(self.slices) if k == turn), None)


class WavOutput:
    """Writes the played audio to a WAV file (silence between turns is not written)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._wav: wave.Wave_write | None = None
        self._rate = 0

    def write(self, pcm: bytes, sample_rate: int, turn: int) -> None:
        if self._wav is None:
            self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - closed by close()
            self._wav.setnchannels(1)
            self._wav.setsampwidth(2)
            self._wav.setframerate(sample_rate)
            self._rate = sample_rate
        if sample_rate != self._rate:
            pcm = resample(np.frombuffer(pcm, "<i2"), sample_rate, self._rate).tobytes()
        self._wav.writeframes(pcm)

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None


class AplayOutput:
    """The default ALSA playback device through ``aplay``; a small buffer keeps stops prompt."""

    def __init__(self, sample_rate: int) -> None:
        import subprocess

        if shutil.which("aplay") is None:
            raise ConfigurationError("audio output needs aplay: apt-get install alsa-utils")
        self.sample_rate = sample_rate
        self._proc = subprocess.Popen(
            ["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(sample_rate), "-B", "60000"],
            stdin=subprocess.PIPE,
        )

    def write(self, pcm: bytes, sample_rate: int, turn: int) -> None:
        if sample_rate != self.sample_rate:
            pcm = resample(np.frombuffer(pcm, "<i2"), sample_rate, self.sample_rate).tobytes()
        assert self._proc.stdin is not None
        self._proc.stdin.write(pcm)
        self._proc.stdin.flush()

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=5)


@dataclass
class _Segment:
    turn: int
    index: int
    text: str
    pcm: bytes
    sample_rate: int
    played: int = 0  # bytes

    @property
    def done(self) -> bool:
        return self.played >= len(self.pcm)


@dataclass
class _TurnPlayback:
    segments: list[_Segment] = field(default_factory=list)
    first_audio: float | None = None
    last_audio: float | None = None
    released: bool = False  # may play (a speculative turn is held until its end of turn)
    finished: bool = False  # no more segments will come


class Player:
    """Real-time playback of turns' sentences, with pause, resume and drop.

    ``hold`` turns are queued but not played until :meth:`release`; turns are
    played in the order they were released. ``on_first_audio(turn, time)`` is
    called when a turn's first slice is written.
    """

    def __init__(self, output: AudioOutput, *, on_first_audio: Callable[[int, float], None] | None = None):
        self.output = output
        self.on_first_audio = on_first_audio
        self._turns: dict[int, _TurnPlayback] = {}
        self._order: deque[int] = deque()
        self._dropped: set[int] = set()
        self._paused = False
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.stray_frames = 0  # audio of dropped turns offered after the drop (refused)

    # -- control ---------------------------------------------------------------------

    def open_turn(self, turn: int, *, hold: bool = False) -> None:
        self._turns[turn] = _TurnPlayback(released=not hold)
        if not hold:
            self._order.append(turn)
            self._wake.set()

    def release(self, turn: int) -> None:
        playback = self._turns.get(turn)
        if playback is not None and not playback.released and turn not in self._dropped:
            playback.released = True
            self._order.append(turn)
            self._wake.set()

    def enqueue(self, turn: int, index: int, text: str, pcm: bytes, sample_rate: int) -> bool:
        """Queue a sentence's audio; refused (False) for a dropped or unknown turn."""
        playback = self._turns.get(turn)
        if turn in self._dropped or playback is None:
            self.stray_frames += 1
            return False
        playback.segments.append(_Segment(turn, index, text, pcm, sample_rate))
        self._wake.set()
        return True

    def finish_turn(self, turn: int) -> None:
        playback = self._turns.get(turn)
        if playback is not None:
            playback.finished = True
            self._wake.set()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self._wake.set()

    @property
    def paused(self) -> bool:
        return self._paused

    def drop(self, turn: int) -> None:
        """Stop a turn's audio now and forget what is queued; later audio of it is refused."""
        self._dropped.add(turn)
        with contextlib.suppress(ValueError):
            self._order.remove(turn)
        self._wake.set()

    # -- what was heard ----------------------------------------------------------------

    def spoken_text(self, turn: int) -> str:
        """The words of ``turn`` that were played: whole sentences, then the played share of the next."""
        playback = self._turns.get(turn)
        if playback is None:
            return ""
        words: list[str] = []
        for segment in sorted(playback.segments, key=lambda s: s.index):
            if segment.done:
                words.extend(segment.text.split())
            elif segment.played:
                parts = segment.text.split()
                words.extend(parts[: int(len(parts) * segment.played / max(len(segment.pcm), 1))])
                break
            else:
                break
        return " ".join(words)

    def all_played(self, turn: int) -> bool:
        playback = self._turns.get(turn)
        return playback is not None and playback.finished and all(s.done for s in playback.segments)

    def first_audio(self, turn: int) -> float | None:
        playback = self._turns.get(turn)
        return playback.first_audio if playback else None

    def last_audio(self, turn: int) -> float | None:
        playback = self._turns.get(turn)
        return playback.last_audio if playback else None

    def is_playing(self) -> bool:
        return not self._paused and bool(self._order) and self._current() is not None

    async def wait_idle(self) -> None:
        await self._idle.wait()

    def _current(self) -> _Segment | None:
        while self._order:
            turn = self._order[0]
            playback = self._turns[turn]
            pending = [s for s in playback.segments if not s.done]
            if pending:
                return min(pending, key=lambda s: s.index)
            if playback.finished:
                self._order.popleft()
                continue
            return None  # waiting for this turn's next sentence
        return None

    async def run(self) -> None:
        """Play forever (run it as a task)."""
        deadline: float | None = None
        while True:
            segment = None if self._paused else self._current()
            if segment is None:
                if not self._order:
                    self._idle.set()
                deadline = None
                self._wake.clear()
                await self._wake.wait()
                continue
            self._idle.clear()
            step = max(2, int(segment.sample_rate * SLICE_SECONDS) * 2)
            piece = segment.pcm[segment.played : segment.played + step]
            now = time.monotonic()
            if deadline is None or deadline < now - SLICE_SECONDS:
                deadline = now
            delay = deadline - now
            if delay > 0:
                await asyncio.sleep(delay)
                if self._paused or segment.turn in self._dropped:
                    continue
            written = time.monotonic()
            self.output.write(piece, segment.sample_rate, segment.turn)
            playback = self._turns[segment.turn]
            if playback.first_audio is None:
                playback.first_audio = written
                if self.on_first_audio is not None:
                    self.on_first_audio(segment.turn, written)
            playback.last_audio = written
            segment.played += len(piece)
            deadline += len(piece) / 2 / segment.sample_rate
