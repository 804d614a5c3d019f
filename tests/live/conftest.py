"""Fixtures of the live-data tests: a real local status server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .status_server import StatusServer


@pytest.fixture
def status_server() -> Iterator[StatusServer]:
    with StatusServer() as server:
        yield server
