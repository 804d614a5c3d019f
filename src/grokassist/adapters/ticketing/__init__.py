"""Ticketing adapters: hand a conversation to a person and bring the person's reply back."""

from __future__ import annotations

from .base import NewTicket, TicketingAdapter, TicketRef, TicketStatus, TicketUpdate

__all__ = ["NewTicket", "TicketRef", "TicketStatus", "TicketUpdate", "TicketingAdapter"]
