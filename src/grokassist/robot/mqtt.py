"""The robot's side over MQTT (paho-mqtt; the broker is, for example, Debian's mosquitto).

Topics, under ``grokassist/robot/<robot id>/`` (:class:`Topics`):

==============  =========  ==================================================
``transcript``  published  what the owner said: ``{"turn", "text", "time"}``
``answer``      published  what the robot said: ``{"turn", "text", "spoken",
                           "interrupted", "citations", "time"}``
``action``      published  approved actions only: ``{"id", "type", "params",
                           "utterance", "decided_at"}``
``decision``    published  every gate decision (allowed, to confirm, refused)
``state``       subscribed the robot's :class:`~.gate.RobotState` (retained)
==============  =========  ==================================================

Everything is QoS 1 (at least once; action ids make repeats detectable). The
client reconnects on its own (back-off 0.5-10 s) and queues QoS 1 messages
meanwhile. :meth:`MqttLink.connect` raises :class:`~grokassist.errors.RobotError`
with the broker's address when it cannot be reached, and
:meth:`MqttLink.publish_action` raises when an action could not be handed to
the broker within ``publish_timeout``: an action is never silently lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from pydantic import ValidationError

from .._optional import require
from ..errors import ConfigurationError, RobotError
from .gate import ApprovedAction, Decision, RobotState

__all__ = ["MqttLink", "Topics", "parse_mqtt_url"]

log = logging.getLogger("grokassist.robot")


@dataclass(frozen=True)
class Topics:
    prefix: str

    @property
    def transcript(self) -> str:
        return f"{self.prefix}/transcript"

    @property
    def answer(self) -> str:
        return f"{self.prefix}/answer"

    @property
    def action(self) -> str:
        return f"{self.prefix}/action"

    @property
    def decision(self) -> str:
        return f"{self.prefix}/decision"

    @property
    def state(self) -> str:
        return f"{self.prefix}/state"


def parse_mqtt_url(url: str) -> tuple[str, int]:
    """``mqtt://host:port`` (or ``host:port``) -> (host, port); port 1883 by default."""
    parsed = urlparse(url if "://" in url else f"mqtt://{url}")
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ConfigurationError(f"expected an MQTT URL like mqtt://127.0.0.1:1883, got {url!r}")
    try:
        port = parsed.port or 1883
    except ValueError as exc:
        raise ConfigurationError(f"bad port in MQTT URL {url!r}") from exc
    return parsed.hostname, port


class MqttLink:
    """A connection to the broker: publishes transcripts, answers and approved actions; follows the state."""

    def __init__(
        self,
        url: str = "mqtt://127.0.0.1:1883",
        *,
        robot_id: str = "optimus",
        client_id: str | None = None,
        connect_timeout: float = 5.0,
        publish_timeout: float = 5.0,
        on_state: Callable[[RobotState], None] | None = None,
    ) -> None:
        self._mqtt = require("paho.mqtt.client", package="paho-mqtt", extra="robot", feature="the MQTT link")
        self.url = url
        self.host, self.port = parse_mqtt_url(url)
        self.topics = Topics(f"grokassist/robot/{robot_id}")
        self.connect_timeout = connect_timeout
        self.publish_timeout = publish_timeout
        self.on_state = on_state
        self._state: RobotState | None = None
        self._connected = threading.Event()
        self._lock = threading.Lock()
        self.client: Any = self._mqtt.Client(
            self._mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"grokassist-{robot_id}-{int(time.time() * 1000) % 10**8}",
            protocol=self._mqtt.MQTTv311,
        )
        self.client.reconnect_delay_set(min_delay=0.5, max_delay=10)
        self.client.max_queued_messages_set(1000)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # -- connection ------------------------------------------------------------------

    def connect(self) -> MqttLink:
        """Connect and subscribe to the state; :class:`RobotError` if the broker cannot be reached."""
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except (OSError, ValueError) as exc:
            raise RobotError(
                f"cannot reach the MQTT broker at {self.url}: {exc}. Is it running? "
                f"(e.g. mosquitto -p {self.port}); check --mqtt"
            ) from exc
        self.client.loop_start()
        if not self._connected.wait(self.connect_timeout):
            self.client.loop_stop()
            raise RobotError(
                f"the MQTT broker at {self.url} did not accept the connection within "
                f"{self.connect_timeout:g}s"
            )
        return self

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> MqttLink:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT broker %s refused the connection: %s", self.url, reason)
            return
        client.subscribe(self.topics.state, qos=1)  # again after each reconnect
        self._connected.set()
        log.info("connected to the MQTT broker at %s", self.url)

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._connected.clear()
        log.warning("lost the MQTT broker at %s (%s); reconnecting", self.url, reason)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        if message.topic != self.topics.state:
            return
        try:
            state = RobotState.model_validate_json(message.payload)
        except (ValidationError, ValueError) as exc:
            log.warning("ignored a malformed robot state on %s: %s", message.topic, exc)
            return
        with self._lock:
            self._state = state
        if self.on_state is not None:
            self.on_state(state)

    # -- state -----------------------------------------------------------------------

    def state(self) -> RobotState | None:
        """The robot's last reported state (``None`` before its first report)."""
        with self._lock:
            return self._state

    def publish_state(self, state: RobotState, *, retain: bool = True) -> None:
        """Publish a state report (what the robot does; used by tests, the benchmark and simulators)."""
        self._publish(self.topics.state, state.model_dump(mode="json"), retain=retain, wait=True)

    # -- publishing ------------------------------------------------------------------

    def publish_transcript(self, turn: int, text: str) -> None:
        self._publish(self.topics.transcript, {"turn": turn, "text": text, "time": time.time()})

    def publish_answer(self, turn: int, payload: dict[str, Any]) -> None:
        self._publish(self.topics.answer, {"turn": turn, **payload, "time": time.time()})

    def publish_decision(self, decision: Decision) -> None:
        self._publish(self.topics.decision, decision.model_dump(mode="json"))

    def publish_action(self, action: ApprovedAction) -> None:
        """Publish an approved action and wait for the broker's acknowledgement."""
        if not isinstance(action, ApprovedAction):
            raise RobotError("only actions approved by the safety gate can be published")
        self._publish(self.topics.action, action.message(), wait=True)

    def _publish(
        self, topic: str, payload: dict[str, Any], *, retain: bool = False, wait: bool = False
    ) -> None:
        info = self.client.publish(topic, json.dumps(payload), qos=1, retain=retain)
        if info.rc not in (self._mqtt.MQTT_ERR_SUCCESS, self._mqtt.MQTT_ERR_NO_CONN):
            raise RobotError(f"MQTT publish to {topic} failed: {self._mqtt.error_string(info.rc)}")
        if wait:
            try:
                info.wait_for_publish(self.publish_timeout)
            except (RuntimeError, ValueError) as exc:
                raise RobotError(f"MQTT publish to {topic} failed: {exc}") from exc
            if not info.is_published():
                raise RobotError(
                    f"the MQTT broker at {self.url} did not acknowledge {topic} "
                    f"within {self.publish_timeout:g}s"
                )
