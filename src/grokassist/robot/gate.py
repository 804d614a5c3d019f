"""The safety gate: code, not a prompt, between a model's tool call and the robot.

Every :class:`ActionRequest` gets a :class:`Decision` (``allow``, ``confirm``
or ``refuse``) from a fixed order of rules, and every decision is written to
the :class:`AuditLog`:

1. **origin** - only the owner's own words can ask for an action; a request
   from a document or from an answer's text is refused (``origin``);
2. **allow-list** - a known action name, else ``unknown_action``;
3. **parameters** - the action's pydantic bounds (``invalid_arguments``), then
   **grounding**: the object, room or target must be in what the owner said
   (``not_requested``), so a model cannot invent one;
4. ``stop`` is always allowed, in any state, never rate-limited;
5. **who** - guests may only stop or call a human (``speaker``);
6. **state** - unknown or stale robot state, an emergency stop, charging,
   faults, low battery: no motion (``state``);
7. **the manual's rules** (:data:`OPTIMUS_RULES`) - refused objects and
   places, in the arguments and in the owner's words (a model that turns
   "carry the dog outside" into a harmless-looking ``point_to`` is refused
   too), weight and hand limits, slower limits with a child present
   (``manual``), speed capped to the situation's limit;
8. **rate limits** (``rate_limit``);
9. **confirmation** - risky actions need a spoken "yes" within a deadline;
   the confirmed action is checked again against the state of that moment.

Only the gate creates :class:`ApprovedAction` s, and the MQTT link publishes
nothing else.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import RobotError, ToolError
from ..text import content_terms
from ..tools import ToolCall
from .actions import ACTIONS, MOTION, HandOver, NavigateTo, RobotAction, robot_tools

__all__ = [
    "OPTIMUS_RULES",
    "ActionRequest",
    "ApprovedAction",
    "AuditLog",
    "Decision",
    "RobotState",
    "RuleSet",
    "SafetyGate",
]

Origin = Literal["speech", "document", "answer", "api"]
Speaker = Literal["owner", "member", "guest"]


class RobotState(BaseModel):
    """What the robot reports about itself (MQTT ``state`` topic); live facts for answers too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    battery_pct: float = Field(ge=0, le=100)
    charging: bool = False
    estop: bool = False
    task: str = Field(default="idle", max_length=200)
    faults: tuple[str, ...] = ()
    child_present: bool = False
    location: str = Field(default="", max_length=100)
    no_go_zones: tuple[str, ...] = ()
    time: float = Field(default_factory=time.time)  # wall-clock time of the report

    def describe(self) -> str:
        """The state as sentences, for an answer's live source."""
        parts = [f"Battery level: {self.battery_pct:.0f}%."]
        parts.append("The robot is charging on its dock." if self.charging else "The robot is not charging.")
        if self.estop:
            parts.append("The emergency stop is pressed.")
        parts.append(f"Current task: {self.task}.")
        parts.append(f"Faults: {', '.join(self.faults)}." if self.faults else "No faults.")
        if self.location:
            parts.append(f"Location: {self.location}.")
        return " ".join(parts)


@dataclass(frozen=True)
class RuleSet:
    """Limits and word lists of one robot's manual."""

    name: str
    # "hand over me": the object of a carrying action may not be a person
    refused_carry: tuple[str, ...] = (r"^\W*(?:me|myself|him|her|them|you|yourself|us|somebody|someone)\W*$",)
    min_battery_pct: float = 15.0
    state_max_age_s: float = 60.0
    max_weight_one_hand_kg: float = 8.0
    max_weight_two_hands_kg: float = 20.0
    max_weight_child_kg: float = 5.0
    confirm_weight_kg: float = 10.0
    max_speed_mps: float = 1.0
    child_speed_mps: float = 0.5
    heavy_speed_mps: float = 0.3
    motion_interval_s: float = 2.0
    max_actions_per_minute: int = 6
    confirm_within_s: float = 20.0
    refused_objects: tuple[str, ...] = ()
    refused_places: tuple[str, ...] = ()
    confirm_places: tuple[str, ...] = ()
    charger_places: tuple[str, ...] = ()
    guest_actions: frozenset[str] = frozenset({"stop", "call_human"})


#: The Optimus Gen 1 manual (examples/optimus/docs) as rules: "Carrying and lifting limits",
#: "Children, pets, and tasks Optimus will not do", "Emergency stop and safety basics",
#: "Charging and battery" (under 15% it starts no new task), "Moving between rooms, floors and stairs".
OPTIMUS_RULES = RuleSet(
    name="optimus-gen1 manual",
    refused_objects=(
        # people and animals
        r"\b(?:baby|babies|child|children|kid|kids|toddler|person|people|man|woman|grandma|grandpa|"
        r"grandmother|grandfather|dog|dogs|cat|cats|puppy|kitten|pet|pets|animal|animals|hamster|rabbit|"
        r"bird|parrot|fish|snake|lizard)\b",
        # blades
        r"\b(?:knife|knives|blade|blades|scissors|razor|saw|axe|cleaver|cutter)\b",
        # medication and chemicals
        r"\b(?:medication|medicine|medicines|pills?|tablets?|drugs?|insulin|syringe|bleach|ammonia|"
        r"chemicals?|poison)\b",
        # heat and fire
        r"\b(?:hot|boiling|burning|fire|flame|candle|candles|lighter|matches|stove|oven|grill|heater|"
        r"pan|kettle|iron|soldering)\b",
        # weapons and tools
        r"\b(?:gun|guns|firearm|rifle|pistol|weapon|weapons|ammunition|drill|chainsaw|power tool)\b",
        # large glass
        r"\b(?:mirror|glass pane|window pane)\b",
    ),
    refused_places=(
        r"\b(?:outside|outdoors?|garden|yard|street|road|roof|balcony|terrace|pool|ladder|car|garage)\b",
        r"\bspiral\b",
    ),
    confirm_places=(r"\b(?:stairs?|staircase|upstairs|downstairs|floor|basement|attic|loft)\b",),
    charger_places=(r"\b(?:charger|charging|dock)\b",),
)


class ActionRequest(BaseModel):
    """A tool call and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call: ToolCall
    origin: Origin
    utterance: str = ""  # the owner's words that asked for it (origin "speech")
    speaker: Speaker = "owner"
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])


class Decision(BaseModel):
    """The gate's verdict on one request; ``say`` is what the robot tells the owner."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    request_id: str
    verdict: Literal["allow", "confirm", "refuse"]
    action: str
    params: dict[str, Any] = Field(default_factory=dict)
    rule: str
    reason: str
    say: str = ""


_TOKEN = object()


class ApprovedAction:
    """An action the gate allowed; only :class:`SafetyGate` creates these."""

    __slots__ = ("action", "decided_at", "id", "name", "params", "utterance")

    def __init__(self, token: object, decision: Decision, action: RobotAction, utterance: str) -> None:
        if token is not _TOKEN:
            raise RobotError("only the safety gate approves actions")
        self.id = decision.request_id
        self.name = decision.action
        self.action = action
        self.params = action.model_dump(mode="json")
        self.utterance = utterance
        self.decided_at = time.time()

    def message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.name,
            "params": self.params,
            "utterance": self.utterance,
            "decided_at": self.decided_at,
        }


class AuditLog:
    """Every decision, as JSON lines in ``path`` (and in :attr:`entries`)."""

    def __init__(self, path: str | Path | None = None, *, keep: int = 10_000) -> None:
        self.path = Path(path) if path else None
        self.entries: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, request: ActionRequest, decision: Decision, state: RobotState | None) -> None:
        entry = {
            "time": time.time(),
            "request": request.id,
            "origin": request.origin,
            "speaker": request.speaker,
            "utterance": request.utterance,
            "call": {"name": request.call.name, "arguments": request.call.arguments},
            "raw_arguments": request.call.raw_arguments[:500],
            "verdict": decision.verdict,
            "rule": decision.rule,
            "reason": decision.reason,
            "state": state.model_dump(mode="json") if state else None,
        }
        with self._lock:
            self.entries.append(entry)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry) + "\n")


_YES = re.compile(r"^\W*(?:yes|yeah|yep|sure|confirm(?:ed)?|do it|go ahead|ok(?:ay)?|please do)\b", re.I)


@dataclass
class _Pending:
    request: ActionRequest
    action: RobotAction
    until: float


@dataclass
class _Rates:
    last_motion: float = -1e9
    recent: deque[float] = field(default_factory=deque)


class SafetyGate:
    """Decides on action requests (see the module docstring); thread-safe."""

    def __init__(
        self,
        rules: RuleSet = OPTIMUS_RULES,
        *,
        state: Callable[[], RobotState | None],
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = rules
        self.state = state
        self.audit = audit or AuditLog()
        self.clock = clock
        self._tools = robot_tools()
        self._rates = _Rates()
        self._pending: _Pending | None = None
        self._lock = threading.Lock()
        self._refused_objects = [re.compile(p, re.I) for p in rules.refused_objects]
        self._refused_carry = [re.compile(p, re.I) for p in rules.refused_carry]
        self._refused_places = [re.compile(p, re.I) for p in rules.refused_places]
        self._confirm_places = [re.compile(p, re.I) for p in rules.confirm_places]
        self._charger = [re.compile(p, re.I) for p in rules.charger_places]

    # -- public API ------------------------------------------------------------------

    def evaluate(self, request: ActionRequest) -> tuple[Decision, ApprovedAction | None]:
        """The decision on ``request`` and, when allowed, the approved action to publish."""
        with self._lock:
            state = self.state()
            decision, action = self._decide(request, state, confirmed=False)
            return self._conclude(request, decision, action, state)

    def answer_confirmation(self, utterance: str) -> tuple[Decision, ApprovedAction | None] | None:
        """Resolve a pending confirmation with the owner's reply; ``None`` when none is pending."""
        with self._lock:
            pending, self._pending = self._pending, None
            if pending is None:
                return None
            state = self.state()
            request = pending.request
            if self.clock() > pending.until:
                decision = self._refuse(request, "confirmation", "the confirmation came too late", "")
            elif not _YES.match(utterance):
                decision = self._refuse(request, "confirmation", f"not confirmed: {utterance[:80]!r}", "")
                decision = decision.model_copy(update={"say": "OK, I won't."})
            else:
                decision, action = self._decide(request, state, confirmed=True)
                return self._conclude(request, decision, action, state)
            self.audit.record(request, decision, state)
            return decision, None

    @property
    def pending(self) -> bool:
        with self._lock:
            return self._pending is not None

    # -- rules -----------------------------------------------------------------------

    def _conclude(
        self,
        request: ActionRequest,
        decision: Decision,
        action: RobotAction | None,
        state: RobotState | None,
    ) -> tuple[Decision, ApprovedAction | None]:
        approved = None
        if decision.verdict == "allow" and action is not None:
            approved = ApprovedAction(_TOKEN, decision, action, request.utterance)
            now = self.clock()
            if decision.action in MOTION:
                self._rates.last_motion = now
            if decision.action != "stop":
                self._rates.recent.append(now)
        elif decision.verdict == "confirm" and action is not None:
            self._pending = _Pending(request, action, self.clock() + self.rules.confirm_within_s)
        self.audit.record(request, decision, state)
        return decision, approved

    def _refuse(self, request: ActionRequest, rule: str, reason: str, say: str) -> Decision:
        return Decision(
            request_id=request.id,
            verdict="refuse",
            action=request.call.name,
            params=dict(request.call.arguments),
            rule=rule,
            reason=reason,
            say=say or f"Sorry, I can't do that: {reason}.",
        )

    def _decide(
        self, request: ActionRequest, state: RobotState | None, *, confirmed: bool
    ) -> tuple[Decision, RobotAction | None]:
        call = request.call
        r = self.rules
        if request.origin != "speech" or not request.utterance.strip():
            reason = f"actions come only from what the owner says, not from {request.origin} text"
            return self._refuse(request, "origin", reason, "I only act on what you ask me to do."), None
        if call.name not in ACTIONS:
            return self._refuse(request, "unknown_action", f"there is no action {call.name!r}", ""), None
        try:
            _, args = self._tools.validate(call)
        except ToolError as exc:
            return self._refuse(
                request, "invalid_arguments", str(exc), "Sorry, I can't do that safely."
            ), None
        action = ACTIONS[call.name].model_validate(args.model_dump())
        if call.name == "stop":
            return self._allow(request, action, "stop", "stop is always allowed", "Stopping."), action
        grounded = self._grounded(action, request.utterance)
        if grounded:
            return self._refuse(
                request, "not_requested", grounded, "Sorry, I'm not sure what you asked."
            ), None
        if request.speaker == "guest" and call.name not in r.guest_actions:
            return self._refuse(
                request, "speaker", "guests can only stop the robot or call a human", ""
            ), None
        if call.name in MOTION:
            problem = self._state_problem(action, state)
            if problem:
                return self._refuse(request, "state", problem, ""), None
            assert state is not None
            problem = self._manual_problem(action, state) or self._request_problem(request.utterance)
            if problem:
                return self._refuse(request, "manual", problem, ""), None
            action = self._capped(action, state)
        elif (
            state is not None and state.estop and call.name != "call_human" and call.name != "show_on_screen"
        ):
            return self._refuse(request, "state", "the emergency stop is pressed", ""), None
        now = self.clock()
        if call.name in MOTION and now - self._rates.last_motion < r.motion_interval_s:
            return self._refuse(request, "rate_limit", "too many movements in a row; wait a moment", ""), None
        while self._rates.recent and now - self._rates.recent[0] > 60:
            self._rates.recent.popleft()
        if len(self._rates.recent) >= r.max_actions_per_minute:
            return self._refuse(request, "rate_limit", "too many actions this minute", ""), None
        if not confirmed:
            risk = self._risk(action, state)
            if risk:
                question = f"{risk}. Should I go ahead? Say yes to confirm."
                decision = Decision(
                    request_id=request.id,
                    verdict="confirm",
                    action=call.name,
                    params=action.model_dump(mode="json"),
                    rule="confirmation",
                    reason=risk,
                    say=question,
                )
                return decision, action
        return self._allow(request, action, "allowed", "within the rules", _confirmation_text(action)), action

    def _allow(
        self, request: ActionRequest, action: RobotAction, rule: str, reason: str, say: str
    ) -> Decision:
        return Decision(
            request_id=request.id,
            verdict="allow",
            action=request.call.name,
            params=action.model_dump(mode="json"),
            rule=rule,
            reason=reason,
            say=say,
        )

    def _grounded(self, action: RobotAction, utterance: str) -> str:
        """Why an argument is not in the owner's words ('' when it is): every word of it must be."""
        said = set(content_terms(utterance))
        for name in ("target", "object", "room"):
            value = getattr(action, name, None)
            if not isinstance(value, str):
                continue
            missing = set(content_terms(value)) - said
            if missing:
                return f"{value!r} is not what the owner asked for ({', '.join(sorted(missing))})"
        return ""

    def _state_problem(self, action: RobotAction, state: RobotState | None) -> str:
        r = self.rules
        if state is None:
            return "the robot's state is unknown (no report from the robot)"
        if time.time() - state.time > r.state_max_age_s:
            return f"the robot's last state report is older than {r.state_max_age_s:g} s"
        if state.estop:
            return "the emergency stop is pressed; release it first"
        if state.faults:
            return f"the robot reports a fault ({', '.join(state.faults)})"
        if state.charging:
            return "the robot is charging; it does not move while on the dock"
        to_charger = isinstance(action, NavigateTo) and any(p.search(action.room) for p in self._charger)
        if state.battery_pct < r.min_battery_pct and not to_charger:
            return f"the battery is at {state.battery_pct:.0f}%, under {r.min_battery_pct:g}%"
        return ""

    def _manual_problem(self, action: RobotAction, state: RobotState) -> str:
        r = self.rules
        if isinstance(action, HandOver):
            if any(p.search(action.object) for p in (*self._refused_objects, *self._refused_carry)):
                return f"the manual does not allow me to handle {action.object}"
            weight = action.weight_kg
            if weight is not None:
                limit = r.max_weight_one_hand_kg if action.hands == 1 else r.max_weight_two_hands_kg
                if state.child_present:
                    limit = min(limit, r.max_weight_child_kg)
                if weight > limit:
                    return f"{weight:g} kg is over my {limit:g} kg limit"
        if isinstance(action, NavigateTo):
            if any(p.search(action.room) for p in self._refused_places):
                return f"I can't go to {action.room}"
            if any(action.room.lower() == zone.lower() for zone in state.no_go_zones):
                return f"{action.room} is a No-Go Zone"
        return ""

    def _request_problem(self, utterance: str) -> str:
        """A motion asked for in words that name something the manual refuses ("carry the dog"):
        refused whatever action the model made of it (it may have chosen a harmless-looking one)."""
        for pattern in (*self._refused_objects, *self._refused_places):
            found = pattern.search(utterance)
            if found:
                return f"you asked about {found.group(0)}, which the manual does not allow me to handle"
        return ""

    def _capped(self, action: RobotAction, state: RobotState) -> RobotAction:
        if isinstance(action, NavigateTo):
            limit = self.rules.child_speed_mps if state.child_present else self.rules.max_speed_mps
            if action.speed_mps > limit:
                return action.model_copy(update={"speed_mps": limit})
        return action

    def _risk(self, action: RobotAction, state: RobotState | None) -> str:
        if isinstance(action, HandOver) and (action.weight_kg or 0) > self.rules.confirm_weight_kg:
            return f"{action.object} weighs over {self.rules.confirm_weight_kg:g} kg; I will walk slowly"
        if isinstance(action, NavigateTo) and any(p.search(action.room) for p in self._confirm_places):
            return f"Going to {action.room} means using the stairs"
        if state is not None and state.child_present and isinstance(action, (HandOver, NavigateTo)):
            return "There is a child in the room"
        return ""


def _confirmation_text(action: RobotAction) -> str:
    match action:
        case NavigateTo(room=room):
            return f"Going to the {room}." if not room.lower().startswith("the ") else f"Going to {room}."
        case HandOver(object=thing):
            return (
                f"Bringing you the {thing}." if not thing.lower().startswith("the ") else f"Bringing {thing}."
            )
    name = type(action).__name__
    if name == "PointTo":
        return f"Pointing to {action.target}."  # type: ignore[attr-defined]
    if name == "ShowOnScreen":
        return "It's on my screen."
    if name == "CallHuman":
        return "I'm calling a person to help."
    return "OK."
