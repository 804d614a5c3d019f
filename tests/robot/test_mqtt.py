"""The MQTT link against a real mosquitto: QoS 1 topics, live state, reconnect, a clear error."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from grokassist.errors import ConfigurationError, RobotError
from grokassist.robot.broker import Mosquitto, free_port
from grokassist.robot.gate import OPTIMUS_RULES, ActionRequest, RobotState, SafetyGate
from grokassist.robot.mqtt import MqttLink, parse_mqtt_url
from grokassist.tools import ToolCall

pytestmark = pytest.mark.integration


class Listener:
    def __init__(self, url: str) -> None:
        import paho.mqtt.client as mqtt

        host, port = parse_mqtt_url(url)
        self.messages: list[tuple[str, dict[str, Any], int]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, json.loads(m.payload), m.qos))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe("grokassist/robot/#", qos=1)
        assert subscribed.wait(5)

    def wait(self, suffix: str, count: int = 1, timeout: float = 5) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for t, m, _ in self.messages if t.endswith("/" + suffix)]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return [m for t, m, _ in self.messages if t.endswith("/" + suffix)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def wait_until(predicate: Any, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_topics_state_and_approved_actions(broker: Mosquitto) -> None:
    listener = Listener(broker.url)
    seen: list[RobotState] = []
    with MqttLink(broker.url, on_state=seen.append) as link, MqttLink(broker.url, client_id="robot") as robot:
        assert link.state() is None
        robot.publish_state(RobotState(battery_pct=41, task="tidying the living room"))
        assert wait_until(lambda: link.state() is not None)
        state = link.state()
        assert state is not None and state.battery_pct == 41 and seen and seen[-1] == state
        link.publish_transcript(1, "Go to the kitchen.")
        gate = SafetyGate(OPTIMUS_RULES, state=link.state)
        decision, approved = gate.evaluate(
            ActionRequest(
                call=ToolCall(name="navigate_to", arguments={"room": "kitchen"}),
                origin="speech",
                utterance="Go to the kitchen.",
            )
        )
        assert approved is not None
        link.publish_decision(decision)
        link.publish_action(approved)
        link.publish_answer(1, {"text": "Going to the kitchen.", "spoken": "Going to the kitchen."})
        actions = listener.wait("action")
        assert actions == [approved.message()]
        assert listener.wait("transcript")[0]["text"] == "Go to the kitchen."
        assert listener.wait("decision")[0]["verdict"] == "allow"
        assert listener.wait("answer")[0]["spoken"] == "Going to the kitchen."
        assert all(qos == 1 for _, _, qos in listener.messages)
        with pytest.raises(RobotError, match="safety gate"):
            link.publish_action({"type": "navigate_to"})  # type: ignore[arg-type]
        # a malformed state report is ignored, the last good one stays
        robot.client.publish(
            link.topics.state, b'{"battery_pct": "lots"}', qos=1, retain=True
        ).wait_for_publish(5)
        time.sleep(0.3)
        assert link.state() == state
    listener.close()


def test_clear_error_when_the_broker_is_away() -> None:
    port = free_port()
    with pytest.raises(RobotError, match=rf"127\.0\.0\.1:{port}.*Is it running"):
        MqttLink(f"mqtt://127.0.0.1:{port}", connect_timeout=1).connect()
    with pytest.raises(ConfigurationError):
        parse_mqtt_url("http://example.org")


def test_reconnects_after_the_broker_restarts(broker: Mosquitto) -> None:
    link = MqttLink(broker.url, robot_id="r2").connect()
    try:
        broker.stop()
        assert wait_until(lambda: not link.connected, 10)
        broker.start()
        assert wait_until(lambda: link.connected, 20), "did not reconnect"
        listener = Listener(broker.url)
        link.publish_transcript(7, "hello again")
        assert listener.wait("transcript")[0]["turn"] == 7
        # the state subscription is renewed after the reconnect
        with MqttLink(broker.url, robot_id="r2", client_id="robot") as robot:
            robot.publish_state(RobotState(battery_pct=88))
        assert wait_until(lambda: (s := link.state()) is not None and s.battery_pct == 88)
        listener.close()
    finally:
        link.close()
