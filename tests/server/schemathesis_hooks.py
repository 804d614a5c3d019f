"""Schemathesis hooks of the fuzz test: a check that only the documented anonymous routes
answer a request without an API key (docs/security.md lists them)."""

from __future__ import annotations

from typing import Any

import schemathesis

#: The routes a caller without a key may use once keys are configured (the widget's and probes').
ANONYMOUS = {
    ("POST", "/v1/ask"),
    ("POST", "/v1/ask/stream"),
    ("POST", "/v1/sessions"),
    ("GET", "/v1/sessions/{session_id}"),
    ("DELETE", "/v1/sessions/{session_id}"),
    ("POST", "/v1/feedback"),
    ("POST", "/v1/escalate"),
    ("GET", "/v1/sources/{doc_id}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
}


@schemathesis.check
def only_documented_routes_are_anonymous(ctx: Any, response: Any, case: Any) -> None:
    """A route outside :data:`ANONYMOUS` must refuse a request that carries no key."""
    if "authorization" in {name.lower() for name in (case.headers or {})}:
        raise AssertionError("the fuzzer sent an Authorization header")
    method = case.method.upper()
    if (method, case.path) in ANONYMOUS:
        return
    if response.status_code == 405 and method not in case.operation.schema.raw_schema["paths"][case.path]:
        return  # a method the route does not have (the coverage phase tries TRACE and friends)
    if response.status_code != 401:
        raise AssertionError(
            f"{case.method.upper()} {case.path} answered {response.status_code} without an API key"
        )
