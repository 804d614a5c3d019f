"""Fixtures of the adapter tests: a real Request Tracker 5 for the session."""

from __future__ import annotations

from .rt_server import rt_server

__all__ = ["rt_server"]
