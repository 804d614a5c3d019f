"""The handoff over HTTP: escalation, quiet while a person has the conversation, the agent's
replies in the session, triggers, the outbox routes, webhooks, and who may call what."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from desk import Desk
from grokassist.config import TicketingSettings
from grokassist.errors import TicketingUnavailableError
from grokassist.handoff import HandoffSettings

from .conftest import API_KEY, AppFactory

AUTH = {"Authorization": f"Bearer {API_KEY}"}
RESET = "How do I factory reset my router?"
UNKNOWN = "What is the capital of France?"
SECRET = "whsec-test-0123456789"


def wait_for(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def tickets() -> Desk:
    return Desk()


@pytest.fixture
def live(make_app: AppFactory, tickets: Desk) -> Iterator[TestClient]:
    """An app with keys, anonymous widget access and the outbox worker in process."""
    from grokassist.server.app import create_app

    app = make_app(api_keys=[API_KEY])
    handoff = HandoffSettings(poll_s=0.05, sync_s=0.05, redact_personal_data=True)
    assistant = app.state.service.assistant
    assistant.settings = assistant.settings.model_copy(
        update={"ticketing": TicketingSettings(webhook_secret=SECRET)}
    )
    app = create_app(assistant, app.state.service.settings, handoff=handoff, ticketing=tickets)
    with TestClient(app) as client:
        yield client


def test_a_person_takes_over_and_the_assistant_stays_quiet_until_resolved(
    live: TestClient, tickets: Desk
) -> None:
    first = live.post("/v1/ask", json={"question": RESET}).json()
    sid = first["session_id"]
    escalated = live.post(
        "/v1/escalate",
        json={
            "session_id": sid,
            "contact": "ana@example.com",
            "metadata": {"plan": "pro", "locale": "fr-FR"},
        },
    )
    assert escalated.status_code == 202, escalated.text
    escalation_id = escalated.json()["escalation_id"]
    # asking again while a person has it returns the same escalation
    again = live.post("/v1/escalate", json={"session_id": sid, "reason": "hello?"})
    assert again.json()["escalation_id"] == escalation_id

    ticket_id = wait_for(lambda: next(iter(tickets.tickets), None))
    ticket = tickets.ticket(ticket_id)
    assert ticket.external_id == escalation_id and ticket.requester_email == "ana@example.com"
    assert RESET in ticket.body and "plan: pro" in ticket.body and ticket.metadata["locale"] == "fr-FR"
    assert "pinhole reset button" in tickets.notes(ticket_id)[0]  # the assistant's draft, for the agent

    # the assistant does not answer while a person has the conversation; the question is kept
    quiet = live.post("/v1/ask", json={"question": "Are you there?", "session_id": sid}).json()
    assert quiet["text"].startswith("A person from our support team has this conversation")
    assert quiet["actions"] == [
        {
            "type": "handed_off",
            "params": {
                "escalation_id": escalation_id,
                "trigger": "requested",
                "status": "with_person",
                "answered": False,
            },
        }
    ]
    assert quiet["citations"] == []
    stream = live.post(
        "/v1/ask/stream", json={"question": "Hello? Mail me at ana@example.com", "session_id": sid}
    )
    assert "event: delta" not in stream.text and "handed_off" in stream.text
    # what the customer writes meanwhile reaches the agent, on the ticket, redacted
    forwarded = wait_for(lambda: [n for n in tickets.notes(ticket_id) if "customer wrote" in n])
    assert "Are you there?" in "".join(forwarded) and "Mail me at [email]" in "".join(forwarded)

    # the agent's public reply comes back into the conversation, marked as a person's
    tickets.reply(ticket_id, "Hi Ana, I'm Dana. Hold the button for 10 seconds.", author="Dana")
    history = wait_for(
        lambda: (h := live.get(f"/v1/sessions/{sid}").json())["messages"][-1].get("human") and h
    )
    assert history["messages"][-1] == {
        "role": "assistant",
        "content": "Hi Ana, I'm Dana. Hold the button for 10 seconds.",
        "author": "Dana",
        "human": True,
    }
    assert [m["content"] for m in history["messages"] if m["role"] == "user"] == [
        RESET,
        "Are you there?",
        "Hello? Mail me at ana@example.com",
    ]
    assert history["handoff"] == {
        "escalation_id": escalation_id,
        "status": "with_person",
        "trigger": "requested",
    }

    # resolved: the assistant answers again
    tickets.set_status(ticket_id, "resolved")
    wait_for(lambda: live.get(f"/v1/sessions/{sid}").json()["handoff"] is None)
    back = live.post("/v1/ask", json={"question": RESET, "session_id": sid}).json()
    assert back["citations"] and not any(a["type"] == "handed_off" for a in back["actions"])


def test_triggers_hand_the_conversation_over(make_app: AppFactory) -> None:
    from grokassist.server.app import create_app

    base = make_app()
    handoff = HandoffSettings(keywords=["refund"], failed_in_a_row=2, on_negative_feedback=True)
    app = create_app(base.state.service.assistant, base.state.service.settings, handoff=handoff)
    with TestClient(app) as client:
        svc = app.state.service
        # a keyword: the assistant does not answer, a person will
        keyword = client.post("/v1/ask", json={"question": "I want a refund for my router"}).json()
        assert keyword["actions"][0]["type"] == "handed_off"
        assert keyword["actions"][0]["params"]["trigger"] == "keyword"
        queued = svc.store.outbox.get(keyword["actions"][0]["params"]["escalation_id"])
        assert queued.ticket.priority == "high" and "mentioned “refund”" in queued.ticket.subject

        # two failed answers in a row
        one = client.post("/v1/ask", json={"question": UNKNOWN}).json()
        assert one["abstained"] and not any(a["type"] == "handed_off" for a in one["actions"])
        two = client.post(
            "/v1/ask", json={"question": "And of Spain?", "session_id": one["session_id"]}
        ).json()
        fired = [a for a in two["actions"] if a["type"] == "handed_off"]
        assert fired and fired[0]["params"]["trigger"] == "repeated_failure"

        # "not helpful"
        good = client.post("/v1/ask", json={"question": RESET}).json()
        rated = client.post(
            "/v1/feedback", json={"answer_id": good["answer_id"], "helpful": False, "comment": "no"}
        )
        assert rated.status_code == 200 and rated.json()["escalation_id"]
        e = svc.store.outbox.get(rated.json()["escalation_id"])
        assert e.trigger == "negative_feedback" and e.session_id == good["session_id"] and e.reason == "no"
        triggers = sorted(x.trigger for x in svc.store.outbox.escalations())
        assert triggers == ["keyword", "negative_feedback", "repeated_failure"]


def test_the_outbox_routes_need_a_key(live: TestClient, tickets: Desk) -> None:
    tickets.fail = [TicketingUnavailableError("down")] * 1000  # nothing is delivered
    sid = live.post("/v1/ask", json={"question": RESET}).json()["session_id"]
    escalation_id = live.post("/v1/escalate", json={"session_id": sid}).json()["escalation_id"]
    assert live.get("/v1/outbox").status_code == 401
    assert live.post(f"/v1/outbox/{escalation_id}/release").status_code == 401
    listed = live.get("/v1/outbox", headers=AUTH).json()["escalations"]
    assert [e["escalation_id"] for e in listed] == [escalation_id]
    assert listed[0]["holds_conversation"] and "transcript" not in listed[0]
    one = wait_for(
        lambda: (r := live.get(f"/v1/outbox/{escalation_id}", headers=AUTH).json())["attempts"] and r
    )
    assert "down" in one["last_error"]
    assert live.get("/v1/outbox/esc_0000000000000000", headers=AUTH).status_code == 404
    released = live.post(f"/v1/outbox/{escalation_id}/release", headers=AUTH)
    assert released.status_code == 200 and not released.json()["holds_conversation"]
    assert live.post(f"/v1/outbox/{escalation_id}/release", headers=AUTH).status_code == 409
    answered = live.post("/v1/ask", json={"question": RESET, "session_id": sid}).json()
    assert answered["citations"], "a released conversation is the assistant's again"


def test_webhooks_are_verified_before_they_touch_anything(live: TestClient, tickets: Desk) -> None:
    body = json.dumps({"ticket_id": "1000"}).encode()
    good = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    url = "/v1/webhooks/ticketing"
    assert live.post(url, content=body, headers={"X-Grokassist-Signature": good}).status_code == 401  # no key
    bad = live.post(url, content=body, headers={**AUTH, "X-Grokassist-Signature": "sha256=" + "0" * 64})
    assert bad.status_code == 403 and bad.json()["error"]["type"] == "invalid_signature"
    unsigned = live.post(url, content=body, headers=AUTH)
    assert unsigned.status_code == 403
    tampered = live.post(url, content=body + b" ", headers={**AUTH, "X-Grokassist-Signature": good})
    assert tampered.status_code == 403
    ok = live.post(url, content=body, headers={**AUTH, "X-Grokassist-Signature": good})
    assert ok.status_code == 202 and ok.json() == {"status": "accepted"}


def test_webhooks_are_refused_without_a_secret(client: TestClient) -> None:
    r = client.post("/v1/webhooks/ticketing", content=b"{}", headers=AUTH)
    assert r.status_code == 403 and r.json()["error"]["type"] == "webhooks_disabled"


def test_each_route_asks_for_what_its_policy_says(client: TestClient) -> None:
    """With keys configured and no key sent: the widget's routes answer, the others are 401."""
    anonymous = {
        ("POST", "/v1/ask"): {"question": RESET},
        ("POST", "/v1/sessions"): None,
        ("GET", "/v1/sources/billing/pause-service.md"): None,
        ("GET", "/healthz"): None,
        ("GET", "/widget.js"): None,
        ("GET", "/openapi.json"): None,
    }
    for (method, path), body in anonymous.items():
        assert client.request(method, path, json=body).status_code in (200, 201), path
    needs_key = {
        ("POST", "/v1/chat/completions"): {
            "model": "grokassist-support",
            "messages": [{"role": "user", "content": "hi"}],
        },
        ("GET", "/v1/models"): None,
        ("GET", "/v1/models/grokassist-support"): None,
        ("GET", "/v1/outbox"): None,
        ("GET", "/v1/outbox/esc_0123456789abcdef"): None,
        ("POST", "/v1/outbox/esc_0123456789abcdef/retry"): None,
        ("POST", "/v1/webhooks/ticketing"): {},
        ("GET", "/metrics"): None,
    }
    for (method, path), body in needs_key.items():
        r = client.request(method, path, json=body)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", path
        assert client.request(method, path, json=body, headers=AUTH).status_code != 401, path
