"""Assemble and run the robot runtime (what ``grokassist robot`` does)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..backends.base import ChatBackend
from ..config import Settings
from ..errors import ConfigurationError
from ..knowledge import KnowledgeBase
from .audio import AplayOutput, AudioOutput, LiveSource, MemoryOutput, MicrophoneSource, WavOutput, read_wav
from .gate import OPTIMUS_RULES, AuditLog, SafetyGate
from .mqtt import MqttLink
from .runtime import PipelineOptions, RobotAssistant, TurnRecord, VoicePipeline
from .stt import WhisperSTT
from .tts import EspeakTTS, PiperTTS, TextToSpeech
from .vad import SileroVAD, VoiceActivityDetector, WebRtcVAD

__all__ = ["SPOKEN_PROMPT_TOKENS", "RobotConfig", "build_pipeline", "run_robot", "spoken_backends"]

#: The prompt budget of local models for spoken answers; None: each model's own. Prefill is
#: most of the time to the first word: with Gemma 3 270M, 200 tokens gave a median of 1.28-1.36 s
#: from the end of speech to the first audio on 2 cores against 2.05 s with its 320 (docs/robot.md);
#: chat models such as Qwen need about 210 tokens before any source, so no tighter default is set.
#: Action choice always keeps the model's own budget (the call schema alone takes about 300).
SPOKEN_PROMPT_TOKENS: int | None = None

log = logging.getLogger("grokassist.robot")


@dataclass
class RobotConfig:
    audio_in: str = "mic"  # a WAV file, several separated by commas, or "mic"
    audio_out: str = "none"  # a WAV file, "speaker" (aplay) or "none"
    mqtt: str | None = None  # mqtt://host:port
    robot_id: str = "optimus"
    tts: Literal["piper", "espeak"] = "piper"
    vad: Literal["silero", "webrtc"] = "silero"
    audit: Path | None = None
    max_prompt_tokens: int | None = SPOKEN_PROMPT_TOKENS  # None: each backend's own
    options: PipelineOptions = field(default_factory=PipelineOptions)


def _tts(kind: str) -> TextToSpeech:
    if kind == "piper":
        return PiperTTS()
    if kind == "espeak":
        return EspeakTTS()
    raise ConfigurationError(f"unknown text-to-speech {kind!r}: piper or espeak")


def _vad(kind: str) -> VoiceActivityDetector:
    if kind == "silero":
        return SileroVAD()
    if kind == "webrtc":
        return WebRtcVAD()
    raise ConfigurationError(f"unknown VAD {kind!r}: silero or webrtc")


def _wav_files(spec: str) -> list[Path]:
    paths = [Path(p.strip()) for p in spec.split(",") if p.strip()]
    for path in paths:
        if not path.is_file():
            raise ConfigurationError(f"--audio-in: no such WAV file {path}")
    return paths


async def _converse(
    pipeline: VoicePipeline, source: LiveSource, paths: list[Path], pause: float = 0.8
) -> None:
    """Say each file in real time, the next one once the robot has finished answering, then stop."""
    await asyncio.sleep(0.5)
    for path in paths:
        source.say(*read_wav(path))
        await asyncio.sleep(0.2)
        while source.queued_seconds() > 0 or pipeline.busy():
            await asyncio.sleep(0.05)
        await asyncio.sleep(pause)
    source.close()


def _output(spec: str, sample_rate: int) -> AudioOutput:
    if spec == "none":
        return MemoryOutput()
    if spec == "speaker":
        return AplayOutput(sample_rate)
    return WavOutput(spec)


def spoken_backends(spec: str, max_prompt_tokens: int | None) -> tuple[list[ChatBackend], list[ChatBackend]]:
    """(answer chain, action chain) for ``spec``: llama.cpp answers with a tighter prompt budget.

    Both chains share the loaded model (llama.cpp backends with the same file share one).
    """
    from ..backends.registry import parse_backend_chain

    tools = parse_backend_chain(spec)
    if not max_prompt_tokens:
        return tools, tools
    answers = parse_backend_chain(spec, options={"llama-cpp": {"max_prompt_tokens": max_prompt_tokens}})
    return answers, tools


def build_pipeline(
    kb: KnowledgeBase, config: RobotConfig, *, backend: str | None = None, settings: Settings | None = None
) -> tuple[VoicePipeline, MqttLink | None]:
    """The pipeline and its MQTT link (connected), from ``config``."""
    link = MqttLink(config.mqtt, robot_id=config.robot_id).connect() if config.mqtt else None
    spec = backend or (settings or kb.settings).backend
    answers, tools = spoken_backends(spec, config.max_prompt_tokens)
    assistant = RobotAssistant(
        kb, backend=answers, settings=settings, live_state=link.state if link else None
    )
    gate = SafetyGate(
        OPTIMUS_RULES, state=link.state if link else (lambda: None), audit=AuditLog(config.audit)
    )
    tts = _tts(config.tts)
    pipeline = VoicePipeline(
        assistant,
        vad=_vad(config.vad),
        stt=WhisperSTT(),
        tts=tts,
        output=_output(config.audio_out, tts.sample_rate),
        link=link,
        gate=gate,
        tool_backends=tools,
        options=config.options,
    )
    return pipeline, link


async def run_robot(
    kb: KnowledgeBase,
    config: RobotConfig,
    *,
    backend: str | None = None,
    settings: Settings | None = None,
    on_ready: Callable[[], None] | None = None,
) -> list[TurnRecord]:
    """Build the pipeline, warm every model up, then listen until the audio ends.

    WAV files are heard one after the other in real time, each once the robot has answered
    the one before (so that a file list is a conversation, not a string of interruptions).
    """
    paths = None if config.audio_in == "mic" else _wav_files(config.audio_in)
    pipeline, link = build_pipeline(kb, config, backend=backend, settings=settings)
    try:
        await pipeline.warm_up()
        if on_ready is not None:
            on_ready()
        if paths is None:
            return await pipeline.run(MicrophoneSource())
        source = LiveSource()
        feeder = asyncio.create_task(_converse(pipeline, source, paths))
        try:
            return await pipeline.run(source)
        finally:
            feeder.cancel()
    finally:
        await pipeline.tts.aclose()
        close = getattr(pipeline.player.output, "close", None)
        if close is not None:
            close()
        if link is not None:
            link.close()
