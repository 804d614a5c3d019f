"""A schema fuzz run (``schemathesis run`` against ``/openapi.json``) with API keys configured
and no key sent: no route outside the documented anonymous ones answers, and nothing is a 5xx."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import API_KEY, AppFactory
from .live import LiveServer
from .schemathesis_hooks import ANONYMOUS

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        not SCHEMATHESIS.exists() and not shutil.which("schemathesis"), reason="needs schemathesis"
    ),
]


def test_no_key_reaches_a_keyed_route_and_nothing_fails(make_app: AppFactory, tmp_path: Path) -> None:
    # limits high enough that the fuzzer meets the routes, not the rate limiter
    app = make_app(api_keys=[API_KEY], rate_limit_per_minute=1_000_000, rate_limit_burst=1_000_000)
    report = tmp_path / "report.json"
    with LiveServer(app) as server:
        schema = json.loads(
            subprocess.run(
                [sys.executable, "-c", f"import httpx; print(httpx.get('{server.url}/openapi.json').text)"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        operations = {(m.upper(), p) for p, item in schema["paths"].items() for m in item}
        assert operations > ANONYMOUS and len(operations - ANONYMOUS) >= 8, operations
        env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
            "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
        }
        command = [
            str(SCHEMATHESIS if SCHEMATHESIS.exists() else shutil.which("schemathesis")),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error,only_documented_routes_are_anonymous",
            "--generation-with-security-parameters",
            "false",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "25",
            "--seed",
            "20261129",
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
        ]
        run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    result = json.loads(report.read_text())
    assert result["complete"] and result["operations"]["tested"] == len(operations)
    assert result["test_cases"]["generated"] >= 10 * len(operations) and result["failures"] == []
    # schemathesis' own view: every keyed route answered nothing but 401
    keyed = {f"{method} {path}" for method, path in operations - ANONYMOUS}
    assert set(result["warnings"]["missing_auth"]) == keyed
