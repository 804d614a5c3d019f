"""Ticketing adapters: hand a conversation to a person and bring the person's reply back.

>>> from grokassist.adapters.ticketing import open_ticketing
>>> desk = open_ticketing("zendesk://acme", user="bot@acme.com", token="...")  # doctest: +SKIP

One module per system (``rt``, ``zendesk``, ``freshdesk``, ``jira_sm``, ``servicenow``,
``github``), each imported only when its URI is opened; docs/ticketing.md says how to connect them.
"""

from __future__ import annotations

from .base import NewTicket, TicketingAdapter, TicketRef, TicketStatus, TicketUpdate
from .registry import known_ticketing_schemes, open_ticketing, register_ticketing

__all__ = [
    "NewTicket",
    "TicketRef",
    "TicketStatus",
    "TicketUpdate",
    "TicketingAdapter",
    "known_ticketing_schemes",
    "open_ticketing",
    "register_ticketing",
]
