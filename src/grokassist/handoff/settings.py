"""Settings of the handoff to people: ``GROKASSIST_HANDOFF_*`` environment variables or
explicit arguments (explicit arguments win). List values are JSON in the environment, e.g.
``GROKASSIST_HANDOFF_KEYWORDS='["cancel", "refund", "complaint"]'``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..stores.base import DeliveryPolicy, Trigger

__all__ = ["HandoffSettings", "Priority"]

Priority = Literal["low", "normal", "high", "urgent"]

_PRIORITIES: dict[Trigger, Priority] = {
    "requested": "normal",
    "abstained": "normal",
    "negative_feedback": "high",
    "repeated_failure": "high",
    "keyword": "high",
}


class HandoffSettings(BaseSettings):
    """When a conversation goes to a person, what the ticket says, and how it is delivered."""

    model_config = SettingsConfigDict(env_prefix="GROKASSIST_HANDOFF_", extra="forbid")

    # -- triggers (a customer can always ask for a person: POST /v1/escalate) ----------------
    #: Escalate as soon as the assistant abstains (it always offers a person when it does).
    on_abstain: bool = False
    #: Escalate when the customer rates an answer as not helpful.
    on_negative_feedback: bool = False
    #: Escalate after this many failed answers in a row (abstained or withheld); 0: never.
    failed_in_a_row: int = Field(default=0, ge=0, le=100)
    #: Escalate, instead of answering, a question with a word starting with one of these
    #: (case-insensitive: "cancel" also matches "cancellation").
    keywords: list[str] = Field(default_factory=list)

    # -- the ticket --------------------------------------------------------------------------
    #: Redact e-mail addresses, phone numbers, payment card numbers and IBANs from the ticket
    #: (subject, transcript, draft) before it leaves the process. The customer's own contact
    #: goes to the ticket's requester field either way.
    redact_personal_data: bool = True
    #: The region phone numbers without a country code are read in (ISO 3166 code).
    phone_region: str = Field(default="US", min_length=2, max_length=2)
    #: Priority of the ticket by what triggered it.
    priorities: dict[Trigger, Priority] = Field(default_factory=lambda: dict(_PRIORITIES))
    #: Tags every ticket carries (the trigger is added as ``grokassist-<trigger>``).
    tags: list[str] = Field(default_factory=lambda: ["grokassist"])
    #: Post the assistant's draft reply (with its citations) on the ticket as an internal note.
    post_draft: bool = True

    # -- the worker (the ticketing system itself: ``[ticketing]`` settings, docs/ticketing.md) --
    #: Run the outbox worker inside ``grokassist serve`` (else run ``grokassist outbox run``).
    worker_in_process: bool = False
    #: Deliveries one worker makes at once.
    concurrency: int = Field(default=4, ge=1, le=64)
    #: Seconds between looks for due escalations when none was due.
    poll_s: float = Field(default=1.0, gt=0)
    #: Seconds between reads of the open tickets' replies (a webhook makes it immediate).
    sync_s: float = Field(default=5.0, gt=0)
    #: Attempts, lease and backoff of deliveries.
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        return [k.strip().casefold() for k in value if k.strip()]
