"""The robot's actions as pydantic models, and as tools a model can choose.

The bounds here are the hard limits of the owner's manual (``examples/optimus``):
an argument outside them does not validate, whatever the model wrote. The
state-dependent limits (a child in the room, charging, an emergency stop) are
the safety gate's (:mod:`.gate`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..tools import Tool, ToolRegistry

__all__ = [
    "ACTIONS",
    "MOTION",
    "CallHuman",
    "HandOver",
    "NavigateTo",
    "PointTo",
    "RobotAction",
    "ShowOnScreen",
    "Stop",
    "robot_tools",
]


def _plain(value: str) -> str:
    # letters, digits, spaces and a little punctuation: no markup, no control characters, no JSON
    if not re.fullmatch(r"[\w' ,.-]+", value) or "_" in value:
        raise ValueError("only letters, digits, spaces and ' , . - are allowed")
    return value.strip()


# (a validator, not a schema pattern: llama.cpp's schema-to-grammar converter rejects \w)
Name = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_plain)]


class RobotAction(BaseModel):
    """Base of every action: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PointTo(RobotAction):
    """Point at a visible object or place."""

    target: Name


class HandOver(RobotAction):
    """Bring an object and hand it to the person asking."""

    object: Name
    # carrying limits (Carrying and lifting limits): 20 kg with two hands, 8 kg with one
    weight_kg: float | None = Field(default=None, ge=0, le=20)
    hands: Literal[1, 2] = 2


class NavigateTo(RobotAction):
    """Walk to a named room or place."""

    room: Name
    # normal walking speed: up to 1.0 m/s (Emergency stop and safety basics)
    speed_mps: float = Field(default=0.5, gt=0, le=1.0)


class ShowOnScreen(RobotAction):
    """Show a short text on the robot's chest screen."""

    text: str = Field(min_length=1, max_length=120)


class CallHuman(RobotAction):
    """Notify the owner's phone or a support agent."""

    reason: str = Field(min_length=1, max_length=120)


class Stop(RobotAction):
    """Stop moving and talking now."""


#: action name -> (model, description)
ACTIONS: dict[str, type[RobotAction]] = {
    "point_to": PointTo,
    "hand_over": HandOver,
    "navigate_to": NavigateTo,
    "show_on_screen": ShowOnScreen,
    "call_human": CallHuman,
    "stop": Stop,
}

#: actions that move the robot's body
MOTION = frozenset({"point_to", "hand_over", "navigate_to"})


def robot_tools() -> ToolRegistry:
    """The actions as tools (without functions: the runtime gates and publishes them)."""
    tools: list[Tool[Any]] = [
        Tool(name, " ".join((model.__doc__ or "").split()), model) for name, model in ACTIONS.items()
    ]
    return ToolRegistry(tools)
