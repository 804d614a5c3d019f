"""The Optimus example end to end: `grokassist robot` on committed WAVs, a real broker, the default chain."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from grokassist.robot.broker import Mosquitto
from grokassist.robot.gate import RobotState
from grokassist.robot.mqtt import MqttLink, parse_mqtt_url

from .conftest import AUDIO

pytestmark = [pytest.mark.slow, pytest.mark.integration]
REPO = Path(__file__).resolve().parents[2]


def grokassist(*args: str, data: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grokassist.cli", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def test_robot_command_answers_acts_through_the_gate_and_publishes(tmp_path: Path, broker: Mosquitto) -> None:
    import paho.mqtt.client as mqtt

    data = tmp_path / "data"
    ingested = grokassist("ingest", "examples/optimus/docs", "--kb", "optimus", data=data)
    assert ingested.returncode == 0, ingested.stderr
    # the robot reports its state (retained), and an observer listens to everything
    with MqttLink(broker.url, client_id="robot-simulator") as robot:
        robot.publish_state(RobotState(battery_pct=64, task="idle"))
    host, port = parse_mqtt_url(broker.url)
    messages: list[tuple[str, dict[str, Any]]] = []
    observer = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    observer.on_message = lambda c, u, m: messages.append((m.topic.rsplit("/", 1)[-1], json.loads(m.payload)))
    ready = threading.Event()
    observer.on_subscribe = lambda *a: ready.set()
    observer.connect(host, port)
    observer.loop_start()
    observer.subscribe("grokassist/robot/#", qos=1)
    assert ready.wait(5)
    audit = tmp_path / "audit.jsonl"
    wavs = ",".join(str(AUDIO / name) for name in ("battery_level.wav", "charge_time.wav", "bring_knife.wav"))
    run = grokassist(
        "robot",
        "--kb",
        "optimus",
        "--audio-in",
        wavs,
        "--mqtt",
        broker.url,
        "--audit",
        str(audit),
        "--json",
        data=data,
    )
    observer.loop_stop()
    assert run.returncode == 0, run.stderr[-2000:]
    turns = [t for t in json.loads(run.stdout) if not t["cancelled"]]
    heard = [t["transcript"].lower() for t in turns]
    assert any("charge" in h for h in heard) and any("battery" in h for h in heard), heard
    assert any("knife" in h for h in heard), heard
    # the charging question got a grounded answer, spoken from its first words
    charge = next(t for t in turns if "charge" in t["transcript"].lower())
    assert charge["first_audio"] is not None and charge["spoken_text"]
    assert charge["citations"] and all(
        c.endswith(".md") or c.startswith("live:") for c in charge["citations"]
    )
    # the battery question was answered from the robot's live state
    battery = next(t for t in turns if "battery" in t["transcript"].lower())
    assert "live:mqtt" in battery["citations"] and "64" in battery["answer_text"]
    # everything went over the broker; no action moved the robot
    topics = [t for t, _ in messages]
    assert topics.count("transcript") >= 3 and topics.count("answer") >= 3
    assert "action" not in topics
    knife = next(t for t in turns if "knife" in t["transcript"].lower())
    if knife["decision"] is not None:  # the model chose an action: the gate refused it, and said why
        assert knife["decision"]["verdict"] == "refuse"
        assert any(t == "decision" and m["verdict"] == "refuse" for t, m in messages)
        assert json.loads(audit.read_text().splitlines()[-1])["verdict"] == "refuse"


def test_robot_command_says_clearly_when_the_broker_is_away(tmp_path: Path) -> None:
    from grokassist.robot.broker import free_port

    data = tmp_path / "data"
    assert grokassist("ingest", "examples/optimus/docs", "--kb", "optimus", data=data).returncode == 0
    run = grokassist(
        "robot",
        "--kb",
        "optimus",
        "--audio-in",
        str(AUDIO / "stop.wav"),
        "--mqtt",
        f"mqtt://127.0.0.1:{free_port()}",
        data=data,
        timeout=120,
    )
    assert run.returncode == 3
    assert "cannot reach the MQTT broker" in run.stderr and "Is it running" in run.stderr
