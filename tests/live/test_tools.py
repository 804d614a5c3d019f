"""Host-product tools on the Assistant: typed functions, who calls them, permission, failures, citations."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from grokassist.assistant import Assistant
from grokassist.backends.base import ChatRequest
from grokassist.errors import ConfigurationError
from grokassist.live import KeywordToolRouter, host_tool, render_value
from grokassist.testing import FakeBackend
from grokassist.types import Chunk, ToolCall

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "examples" / "live"))

import host_tools  # noqa: E402

ACCOUNT = {"account": "ACC-1042"}


class Args(BaseModel):
    region: str


@pytest.fixture
def assistant(kb: Any) -> Any:
    made = Assistant(kb, backend="extractive:")
    host_tools.register(made)
    yield made
    made.close()


def test_a_typed_function_becomes_a_tool_with_its_models() -> None:
    tool = host_tool(host_tools.dish_diagnostics, sensitive=True)
    assert tool.name == "dish_diagnostics" and tool.title == "Dish diagnostics"
    assert tool.tool.description.startswith("Diagnostics of the customer's own dish")
    assert tool.tool.spec.parameters["required"] == ["account"]
    assert tool.result is host_tools.DishDiagnostics and tool.tool.sensitive

    def whole(args: Args) -> str:
        """Status of one region."""
        return f"fine in {args.region}"

    assert host_tool(whole).tool.args is Args
    with pytest.raises(ConfigurationError, match="needs a description"):
        host_tool(lambda: 1)
    with pytest.raises(ConfigurationError, match="needs a type annotation"):

        def untyped(region):  # type: ignore[no-untyped-def]
            """Untyped."""

        host_tool(untyped)


def test_results_are_worded_field_by_field() -> None:
    text = render_value(host_tools.RobotBattery(percent=76, charging=False, minutes_left=190))
    assert text.splitlines() == ["- Percent: 76.", "- Charging: no.", "- Minutes left: 190."]


def test_the_keyword_router_calls_a_tool_only_for_the_customers_current_state(assistant: Any) -> None:
    tools = list(assistant._host_tools.values())
    router = KeywordToolRouter()
    chosen = router.choose("Why is my dish offline?", tools, ACCOUNT)
    assert chosen is not None and chosen[0].name == "dish_diagnostics" and chosen[1] == ACCOUNT
    assert router.choose("Why is my dish offline?", tools, {}) is None  # no account: no call, no guess
    assert router.choose("How do I check if my dish is offline?", tools, ACCOUNT) is None
    assert router.choose("How long does the robot battery last?", tools, ACCOUNT) is None
    battery = router.choose("Is my robot charged?", tools, {})
    assert battery is not None and battery[0].name == "robot_battery"


def test_a_tool_result_is_a_live_source_cited_with_its_time(assistant: Any, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="grokassist"):
        answer = assistant.ask("Is my robot charged?")
    assert not answer.abstained
    assert "Percent: 76" in answer.text and "Charging: no" in answer.text
    cite = answer.citations[0]
    assert cite.tier == "live" and cite.title.startswith("Robot battery, as of ") and cite.as_of is not None
    assert [(u.kind, u.name, u.state) for u in answer.live] == [("tool", "robot_battery", "fresh")]
    assert any("robot_battery" in r.getMessage() for r in caplog.records)  # calls are logged


def test_a_sensitive_tool_needs_the_callers_permission(assistant: Any) -> None:
    refused = assistant.ask("Why is my dish offline?", context=ACCOUNT)
    assert "not permitted to check dish diagnostics" in refused.text
    assert [u.state for u in refused.live] == ["permission"]
    allowed = assistant.ask("Why is my dish offline?", context=ACCOUNT, allow_tools={"dish_diagnostics"})
    assert "Online: no" in allowed.text and "Disconnected (E-102)" in allowed.text
    assert [u.state for u in allowed.live] == ["fresh"]
    everything = assistant.ask("Why is my dish offline?", context=ACCOUNT, allow_tools=True)
    assert "Online: no" in everything.text


def test_a_tool_that_raises_or_hangs_gives_a_plain_answer(kb: Any) -> None:
    assistant = Assistant(kb, backend="extractive:")

    def robot_battery() -> host_tools.RobotBattery:
        """The robot's battery level."""
        raise RuntimeError("the robot's API is down")

    def dish_diagnostics(account: str) -> host_tools.DishDiagnostics:
        """Diagnostics of the customer's dish."""
        time.sleep(5)
        raise AssertionError("never returns in time")

    assistant.add_tool(robot_battery, keywords=["charged"])
    assistant.add_tool(dish_diagnostics, keywords=["dish offline"], timeout=0.3)
    failed = assistant.ask("Is my robot charged?")
    assert failed.text.startswith("I could not check robot battery just now: it failed")
    assert [u.state for u in failed.live] == ["failed"] and "API is down" in failed.live[0].error
    started = time.monotonic()
    slow = assistant.ask("Why is my dish offline?", context=ACCOUNT)
    assert time.monotonic() - started < 3
    assert "did not answer within 0.3 seconds" in slow.text and [u.state for u in slow.live] == ["timeout"]
    assistant.close()


def test_a_result_that_is_not_the_declared_model_is_a_failure(kb: Any) -> None:
    assistant = Assistant(kb, backend="extractive:")

    def robot_battery() -> host_tools.RobotBattery:
        """The robot's battery level."""
        return {"percent": 900}  # type: ignore[return-value]

    assistant.add_tool(robot_battery, keywords=["charged"])
    answer = assistant.ask("Is my robot charged?")
    assert "it failed" in answer.text and "900" not in answer.text
    assistant.close()


def _model(calls: list[str], choice: dict[str, Any]) -> FakeBackend:
    def reply(request: ChatRequest) -> str:
        if request.settings.json_schema is not None:  # asked to choose a tool (grammar-constrained JSON)
            calls.append(request.messages[-1].content)
            return json.dumps(choice)
        return "Your robot is at 76 percent [1]."

    return FakeBackend(reply)


def _settings(kb: Any, tool_choice: str) -> Any:
    answer = kb.settings.answer.model_copy(update={"tool_choice": tool_choice})
    return kb.settings.model_copy(update={"answer": answer})


def test_a_model_chooses_the_tool_and_the_hosts_context_wins_over_its_arguments(kb: Any) -> None:
    calls: list[str] = []
    seen: list[str] = []

    def dish_diagnostics(account: str) -> host_tools.DishDiagnostics:
        """Diagnostics of the customer's dish."""
        seen.append(account)
        return host_tools.dish_diagnostics("ACC-1042")

    choice = {"tool": "dish_diagnostics", "arguments": {"account": "SOMEONE-ELSE"}}
    assistant = Assistant(kb, backend=_model(calls, choice), settings=_settings(kb, "model"))
    assistant.add_tool(dish_diagnostics, sensitive=True)
    answer = assistant.ask("Why is my dish offline?", context=ACCOUNT, allow_tools={"dish_diagnostics"})
    assert calls == ["Why is my dish offline?"]  # only the customer's words
    assert seen == ["ACC-1042"] and answer.live[0].state == "fresh"


def test_a_model_choosing_no_tool_or_an_unknown_one_calls_nothing(kb: Any) -> None:
    for choice in ({"tool": "none"}, {"tool": "format_disk", "arguments": {}}):
        assistant = Assistant(kb, backend=_model([], choice), settings=_settings(kb, "model"))
        host_tools.register(assistant)
        answer = assistant.ask("Is my robot charged?")
        assert answer.live == ()


def test_by_default_a_local_model_does_not_choose_the_tool_it_fills_missing_arguments(kb: Any) -> None:
    # the packaged 0.5B model calls a tool for most questions that need none: the keyword router decides
    calls: list[str] = []
    auto = Assistant(kb, backend=_model(calls, {"tool": "robot_battery"}))
    host_tools.register(auto)
    assert auto.ask("How do I factory reset the Gen 3 router?").live == ()
    assert [u.name for u in auto.ask("Is my robot charged?").live] == ["robot_battery"]
    assert calls == []  # no model call: the router had all it needed
    # a region the context does not hold: the local model reads it from the customer's words
    filled: list[str] = []
    regions = Assistant(
        kb, backend=_model(filled, {"tool": "service_status", "arguments": {"region": "Victoria"}})
    )
    host_tools.register(regions)
    answer = regions.ask("Is the service working in my region, Victoria?")
    assert filled == ["Is the service working in my region, Victoria?"]
    assert [(u.name, u.state) for u in answer.live] == [
        ("service_status", "fresh")
    ] and "operational" in answer.text
    # the extractive chain has no model: without the region, no call (nothing is guessed)
    words = Assistant(kb, backend="extractive:")
    host_tools.register(words)
    assert words.ask("Is the service working in my region, Victoria?").live == ()
    assert [
        u.state for u in words.ask("Is the service working in my region?", context={"region": "Europe"}).live
    ] == ["fresh"]
    keywords = Assistant(
        kb, backend=_model(calls, {"tool": "robot_battery"}), settings=_settings(kb, "keywords")
    )
    host_tools.register(keywords)
    assert keywords.ask("Is the service working in my region, Victoria?").live == () and calls == []


def test_async_tools_run_on_the_async_path(kb: Any) -> None:
    assistant = Assistant(kb, backend="extractive:")

    @assistant.tool(keywords=["charged"], title="Robot battery")
    async def robot_battery() -> host_tools.RobotBattery:
        """The robot's battery level."""
        await asyncio.sleep(0.01)
        return host_tools.robot_battery()

    async def go() -> Any:
        return await assistant.aask("Is my robot charged?")

    answer = asyncio.run(go())
    assert "Percent: 76" in answer.text and answer.citations[0].tier == "live"
    assistant.close()


class NativeBackend(FakeBackend):
    """An OpenAI-compatible model: answers a tool request with native ``tool_calls``."""

    tool_calling = "native"

    def __init__(self, call: ToolCall | None) -> None:
        super().__init__("Your robot is at 76 percent [1].")
        self.call = call
        self.asked: list[ChatRequest] = []

    def stream(self, request: ChatRequest) -> Iterator[Chunk]:
        if request.settings.tools:
            self.asked.append(request)
            yield Chunk(finish_reason="tool_calls", tool_calls=(self.call,) if self.call else ())
            return
        yield from super().stream(request)


def test_an_openai_compatible_model_chooses_natively_by_default(kb: Any) -> None:
    model = NativeBackend(ToolCall(name="robot_battery", arguments={}, id="call_1"))
    assistant = Assistant(kb, backend=model)
    host_tools.register(assistant)
    answer = assistant.ask("How full is the thing?")  # no keyword: only the model could tell
    assert [u.name for u in answer.live] == ["robot_battery"]
    assert {t.name for t in model.asked[0].settings.tools or ()} == {
        "service_status",
        "dish_diagnostics",
        "robot_battery",
    }
    quiet = NativeBackend(None)
    assistant = Assistant(kb, backend=quiet)
    host_tools.register(assistant)
    assert assistant.ask("Is my robot charged?").live == () and quiet.asked  # the model said no tool
