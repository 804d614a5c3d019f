"""The checks between a model and the customer, and between a document and the prompt.

* :mod:`.grounding` — every sentence shown must be supported by a source it cites;
* :mod:`.repetition` — a model stuck in a loop is cut at its first repeat;
* :mod:`.output` — no answer carries the system prompt or a secret;
* :mod:`.injection` — text in a document that addresses the assistant is found at
  ingest, and such documents are never answered from.

The assistant applies all of them in its one answer path, so the SDK, the CLI,
the widget service and the robot runtime get the same checks.
"""

from __future__ import annotations

from .grounding import GroundingGuard, Verdict, check_sentence
from .injection import FLAG_KEY, Finding, neutralise, scan
from .output import REDACTED, WITHHELD_TEXT, GuardedStream, OutputGuard, environment_secrets
from .repetition import RepetitionGuard

__all__ = [
    "FLAG_KEY",
    "REDACTED",
    "WITHHELD_TEXT",
    "Finding",
    "GroundingGuard",
    "GuardedStream",
    "OutputGuard",
    "RepetitionGuard",
    "Verdict",
    "check_sentence",
    "environment_secrets",
    "neutralise",
    "scan",
]
