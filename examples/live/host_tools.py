"""Example host-product tools: typed functions a host registers on the Assistant.

They read a simulated host product (dictionaries below) so that the example,
the tests and ``bench/tool_calls.py`` run anywhere; a real host calls its own
APIs in the same functions. See docs/live-data.md.

    from grokassist import Assistant
    from host_tools import register

    assistant = Assistant("starlink")
    register(assistant)
    assistant.ask(
        "Why is my dish offline?", context={"account": "ACC-1042"}, allow_tools={"dish_diagnostics"}
    )
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field


class ServiceStatus(BaseModel):
    """The service in one region, as the host's network monitoring sees it."""

    region: str
    state: Literal["operational", "degraded", "outage", "maintenance"]
    note: str = ""


class DishDiagnostics(BaseModel):
    """What the dish of an account last reported."""

    account: str
    online: bool
    last_seen: str  # "13:58 UTC"
    obstructed_percent: float = Field(ge=0, le=100)
    alerts: list[str] = []


class RobotBattery(BaseModel):
    """The home robot's battery."""

    percent: int = Field(ge=0, le=100)
    charging: bool
    minutes_left: int


#: the simulated host product
REGIONS: dict[str, ServiceStatus] = {
    "queensland": ServiceStatus(region="Queensland", state="outage", note="Engineers are restoring service."),
    "victoria": ServiceStatus(region="Victoria", state="operational"),
    "europe": ServiceStatus(region="Europe", state="operational"),
}
DISHES: dict[str, dict[str, Any]] = {
    "ACC-1042": {
        "online": False,
        "minutes_ago": 42,
        "obstructed_percent": 3.5,
        "alerts": ["Disconnected (E-102)"],
    },
    "ACC-2077": {"online": True, "minutes_ago": 0, "obstructed_percent": 0.0, "alerts": []},
}


def service_status(region: str) -> ServiceStatus:
    """The current state of the service in a region (outages, degraded speeds, maintenance)."""
    found = REGIONS.get(region.strip().lower())
    if found is None:
        raise LookupError(f"no region named {region!r}")
    return found


def dish_diagnostics(account: str) -> DishDiagnostics:
    """Diagnostics of the customer's own dish: whether it is online, obstructed, and its alerts."""
    dish = DISHES.get(account)
    if dish is None:
        raise LookupError(f"no dish for account {account!r}")
    seen = datetime.now(UTC) - timedelta(minutes=dish["minutes_ago"])
    return DishDiagnostics(
        account=account,
        online=dish["online"],
        last_seen=seen.strftime("%H:%M UTC"),
        obstructed_percent=dish["obstructed_percent"],
        alerts=dish["alerts"],
    )


def robot_battery() -> RobotBattery:
    """The home robot's battery level, whether it is charging, and the minutes of work left."""
    return RobotBattery(percent=76, charging=False, minutes_left=190)


def register(assistant: Any) -> None:
    """Register the three tools on ``assistant`` (dish diagnostics read an account: sensitive)."""
    assistant.add_tool(
        service_status,
        title="Service status in your region",
        keywords=["outage", "service status", "service working", "network status"],
    )
    assistant.add_tool(
        dish_diagnostics,
        title="Dish diagnostics",
        keywords=["dish offline", "dish disconnected", "dish connected", "dish not connecting", "diagnostics",
                  "dish obstructed", "check my dish", "dish wrong"],
        sensitive=True,
    )  # fmt: skip
    assistant.add_tool(
        robot_battery,
        title="Robot battery",
        keywords=["battery", "charged", "charging", "charge level"],
    )
