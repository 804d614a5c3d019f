"""Fixtures of the robot runtime's tests: a real mosquitto broker, the committed question WAVs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grokassist.robot.broker import Mosquitto

AUDIO = Path(__file__).resolve().parents[2] / "examples" / "optimus" / "audio"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    if not Mosquitto.available():
        pytest.skip("mosquitto is not installed (scripts/install-system.sh installs it)")
    with Mosquitto(tmp_path / "mqtt") as server:
        yield server
