"""With the packaged default model (Qwen2.5-Coder-0.5B): its tool calls, and a tool that raises."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grokassist.assistant import Assistant
from grokassist.server import ServerSettings, create_app

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples" / "live"))

import host_tools  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason='needs "grokassist[local]"'),
]


@pytest.fixture(scope="module")
def packaged() -> Any:
    from grokassist.backends.llama_cpp import LlamaCppBackend
    from grokassist.backends.models import DEFAULT_MODEL, MODELS

    if not MODELS[DEFAULT_MODEL].available():
        pytest.skip(f"needs {MODELS[DEFAULT_MODEL].install}")
    backend = LlamaCppBackend("default", n_ctx=4096)
    yield backend
    backend.close()


def test_a_tool_that_raises_gives_a_plain_answer_over_http_not_a_500(
    kb: Any, packaged: Any, tmp_path: Path
) -> None:
    assistant = Assistant(kb, backend=[packaged, "extractive:"])

    def robot_battery() -> host_tools.RobotBattery:
        """The home robot's battery level, whether it is charging, and the minutes of work left."""
        raise RuntimeError("robot API exploded")

    assistant.add_tool(robot_battery, title="Robot battery", keywords=["battery", "charged", "charging"])
    with TestClient(create_app(assistant, ServerSettings(data_dir=tmp_path / "server"))) as client:
        response = client.post("/v1/ask", json={"question": "Is my robot charged?"})
    assert response.status_code == 200
    body = response.json()
    assert [(u["name"], u["state"]) for u in body["live"]] == [("robot_battery", "failed")]
    assert "could not check robot battery" in body["text"].lower() and "exploded" not in response.text


def test_the_packaged_model_calls_tools_with_valid_arguments(kb: Any, packaged: Any) -> None:
    assistant = Assistant(kb, backend=[packaged, "extractive:"])
    host_tools.register(assistant)
    answer = assistant.ask("Is my robot charged?")
    assert [(u.name, u.state) for u in answer.live] == [("robot_battery", "fresh")]
    plain = assistant.ask("How do I factory reset the Gen 3 router?")
    assert plain.live == ()  # a how-to question calls no tool (the model's choice is checked)
