"""The robot dialogue runtime: listen, answer from the manual, speak, be interrupted, act through a gate.

Its own package (not ``adapters/robot``): it is a product surface with its own
command (``grokassist robot``), models and extra (``pip install
"grokassist[robot]"``), like ``server/`` is for the widget; the one adapter
in it, to the robot's MQTT broker, is :mod:`.mqtt`. See ``docs/robot.md``.

Heavy parts (Silero, Whisper, Piper, paho-mqtt) are imported only when the
class that needs them is created.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ACTIONS",
    "OPTIMUS_RULES",
    "ActionRequest",
    "ApprovedAction",
    "AuditLog",
    "Decision",
    "EspeakTTS",
    "LiveSource",
    "MemoryOutput",
    "MicrophoneSource",
    "MqttLink",
    "PipelineOptions",
    "PiperTTS",
    "RobotAssistant",
    "RobotState",
    "RuleSet",
    "SafetyGate",
    "SentenceAggregator",
    "SileroVAD",
    "SpokenHistory",
    "TurnDetector",
    "TurnRecord",
    "VoicePipeline",
    "WavFileSource",
    "WavOutput",
    "WebRtcVAD",
    "WhisperSTT",
    "robot_tools",
]

_WHERE = {
    "ACTIONS": "actions",
    "robot_tools": "actions",
    "OPTIMUS_RULES": "gate",
    "ActionRequest": "gate",
    "ApprovedAction": "gate",
    "AuditLog": "gate",
    "Decision": "gate",
    "RobotState": "gate",
    "RuleSet": "gate",
    "SafetyGate": "gate",
    "LiveSource": "audio",
    "MemoryOutput": "audio",
    "MicrophoneSource": "audio",
    "WavFileSource": "audio",
    "WavOutput": "audio",
    "MqttLink": "mqtt",
    "EspeakTTS": "tts",
    "PiperTTS": "tts",
    "SentenceAggregator": "tts",
    "SileroVAD": "vad",
    "TurnDetector": "vad",
    "WebRtcVAD": "vad",
    "WhisperSTT": "stt",
    "PipelineOptions": "runtime",
    "RobotAssistant": "runtime",
    "SpokenHistory": "runtime",
    "TurnRecord": "runtime",
    "VoicePipeline": "runtime",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'grokassist.robot' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
