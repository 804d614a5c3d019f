"""The shared HTTP layer of the ticketing adapters: status translation, cursors, text."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from grokassist.adapters.ticketing._http import (
    HttpAdapter,
    decode_cursor,
    encode_cursor,
    html_to_text,
    parse_time,
)
from grokassist.errors import (
    ConfigurationError,
    TicketingAuthError,
    TicketingError,
    TicketingRateLimitError,
    TicketingUnavailableError,
    TicketingValidationError,
    TicketNotFoundError,
)


def adapter(status: int, headers: dict[str, str] | None = None, body: bytes = b"{}") -> HttpAdapter:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, headers=headers, content=body))
    return HttpAdapter(
        "https://desk.example", headers={"Authorization": "Bearer s3cret"}, transport=transport
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, TicketingAuthError),
        (403, TicketingAuthError),
        (404, TicketNotFoundError),
        (400, TicketingValidationError),
        (409, TicketingValidationError),
        (422, TicketingValidationError),
        (429, TicketingRateLimitError),
        (500, TicketingUnavailableError),
        (503, TicketingUnavailableError),
        (405, TicketingError),
    ],
)
async def test_statuses_become_the_right_error(status: int, error: type[TicketingError]) -> None:
    desk = adapter(status, body=b'{"error": "nope"}')
    with pytest.raises(error) as caught:
        await desk._request("GET", "/x")
    await desk.aclose()
    assert type(caught.value) is error and caught.value.status_code == status
    assert '"nope"' in caught.value.body and "s3cret" not in str(caught.value)


async def test_retry_after_in_seconds_or_as_a_date() -> None:
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    for headers, low, high in (({"Retry-After": "12"}, 12, 12), ({"Retry-After": later}, 25, 30)):
        desk = adapter(503, headers)
        with pytest.raises(TicketingUnavailableError) as caught:
            await desk._request("GET", "/x")
        await desk.aclose()
        assert caught.value.retry_after is not None and low <= caught.value.retry_after <= high


async def test_an_answer_that_is_not_json_is_an_error() -> None:
    desk = adapter(200, body=b"<html>login page</html>")
    with pytest.raises(TicketingError, match="not JSON"):
        await desk._request("GET", "/x")
    await desk.aclose()


def test_cursors_round_trip_and_garbage_is_refused() -> None:
    assert decode_cursor(encode_cursor({"c": 3, "s": "open"}), system="t") == {"c": 3, "s": "open"}
    assert decode_cursor(None, system="t") == {}
    for garbage in ("not a cursor!", "W10", "%%%"):  # W10 is "[]": JSON, but not an object
        with pytest.raises(TicketingValidationError, match="malformed cursor"):
            decode_cursor(garbage, system="t")


def test_text_and_times() -> None:
    assert html_to_text("<p>Hold the <b>reset</b> button.</p><p>Then wait.<br>10 s</p>") == (
        "Hold the reset button.\nThen wait.\n10 s"
    )
    assert parse_time("2016-01-19 04:52:04") == parse_time("2016-01-19T04:52:04Z")
    assert parse_time("2015-10-08T14:05:53+0700") is not None and parse_time("soon") is None


def test_bad_configuration() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        HttpAdapter("desk.example")
    with pytest.raises(ConfigurationError, match="positive"):
        HttpAdapter("https://desk.example", timeout=0)
