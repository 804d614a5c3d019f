"""Synthesise the spoken questions of the robot tests and benchmark, once, with Piper.

    python examples/optimus/make_audio.py      # writes examples/optimus/audio/*.wav (16 kHz mono)

The files are committed; tests never synthesise them again. Piper (GPL-3.0)
runs in its own process through grokassist.robot.tts.PiperTTS.
"""

from __future__ import annotations

import asyncio
import json
import wave
from pathlib import Path

import numpy as np

from grokassist.robot.audio import SAMPLE_RATE, resample
from grokassist.robot.tts import PiperTTS

HERE = Path(__file__).resolve().parent / "audio"

#: file name -> what is said
UTTERANCES = {
    "charge_time.wav": "How long does it take to fully charge on the dock?",
    "estop.wav": "Where is the emergency stop button?",
    "carry_limit.wav": "How much can you carry with one hand?",
    "wake_word.wav": "How do I change the wake word?",
    "stairs.wav": "Can you climb spiral stairs?",
    "battery_level.wav": "What is your battery level?",
    "long_answer.wav": "Tell me everything about charging the battery.",
    "point_dock.wav": "Optimus, point to the charging dock.",
    "bring_knife.wav": "Bring me the kitchen knife.",
    "go_kitchen.wav": "Go to the kitchen.",
    "stop.wav": "Stop.",
    "hmm.wav": "Hmm.",
}


async def main() -> None:
    HERE.mkdir(exist_ok=True)
    tts = PiperTTS()
    meta = {}
    try:
        for name, text in UTTERANCES.items():
            pcm = await tts.synthesize(text)
            samples = resample(np.frombuffer(pcm, "<i2"), tts.sample_rate, SAMPLE_RATE)
            with wave.open(str(HERE / name), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(SAMPLE_RATE)
                w.writeframes(samples.astype("<i2").tobytes())
            meta[name] = text
            print(f"{name}: {len(samples) / SAMPLE_RATE:.2f} s  {text}")
    finally:
        await tts.aclose()
    (HERE / "utterances.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
