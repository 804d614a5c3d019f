"""The framework-free parts: output guard, token bucket, session registry, settings."""

from __future__ import annotations

import pytest

from grokassist.guard.output import REDACTED, WITHHELD_TEXT, OutputGuard, environment_secrets
from grokassist.prompting import DEFAULT_SYSTEM_PROMPT
from grokassist.server.settings import ServerSettings

SECRET = "sk-live-abcdef0123456789"


@pytest.fixture
def guard() -> OutputGuard:
    return OutputGuard([DEFAULT_SYSTEM_PROMPT], [SECRET, "short"])


def test_guard_spots_the_system_prompt_even_reformatted(guard: OutputGuard) -> None:
    assert guard.violation(DEFAULT_SYSTEM_PROMPT) == "system_prompt"
    quoted = "My rules: keep NUMBERS, TIMES, PRICES, menu paths\nand names exactly as written!"
    assert guard.violation(quoted) == "system_prompt"
    assert guard.clean(quoted) == WITHHELD_TEXT
    assert guard.violation("Press the reset button for 10 seconds [1]. Keep the numbers, they say.") is None


def test_guard_spots_secrets_in_any_case_and_spacing(guard: OutputGuard) -> None:
    assert guard.violation(f"the key is {SECRET}") == "secret"
    assert guard.violation(f"the key is {SECRET.upper()}") == "secret"
    assert guard.violation("the key is sk-live- abcdef 0123 456789") == "secret"
    assert guard.violation("a short word is fine") is None  # secrets under 8 characters are ignored
    assert guard.redact(f"key: {SECRET}.") == f"key: {REDACTED}."


def test_guarded_stream_never_releases_a_secret_split_across_pieces(guard: OutputGuard) -> None:
    stream = guard.stream()
    released = stream.feed("Here you go: ")
    for i in range(0, len(SECRET), 3):
        released += stream.feed(SECRET[i : i + 3])
    released += stream.finish()
    assert stream.violation == "secret"
    assert SECRET[:10] not in released


def test_guarded_stream_releases_clean_text_in_full(guard: OutputGuard) -> None:
    stream = guard.stream()
    pieces = ["Press and hold ", "the reset button ", "for 10 seconds [1]. " * 5]
    out = "".join(stream.feed(p) for p in pieces)
    assert len(out) > 0 and out.endswith(" ")  # text flows before the end, whole words at a time ...
    assert out + stream.finish() == "".join(pieces)  # ... and nothing is lost
    assert stream.violation is None


def test_guard_ignores_template_fields_and_reads_secret_environment() -> None:
    g = OutputGuard(["Answer from {sources} only and never {do_this}."], shingle_words=3)
    assert g.violation("from sources only") is None
    env = {
        "OPENAI_API_KEY": "sk-abcdefgh12345",
        "MY_TOKEN": "tok-1234567890",
        "HOME": "/root",
        "X_SECRET": "ab",
    }
    assert sorted(environment_secrets(env)) == ["sk-abcdefgh12345", "tok-1234567890"]


def test_server_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKASSIST_SERVER_API_KEYS", '["k-one-123456", "k-two-123456"]')
    monkeypatch.setenv("GROKASSIST_SERVER_CORS_ORIGINS", '["https://help.example.com/"]')
    monkeypatch.setenv("GROKASSIST_SERVER_RATE_LIMIT_BURST", "5")
    s = ServerSettings()
    assert s.key_values() == ["k-one-123456", "k-two-123456"]
    assert "k-one" not in repr(s)
    assert s.cors_origins == ["https://help.example.com"] and s.rate_limit_burst == 5
    with pytest.raises(ValueError, match="must look like"):
        ServerSettings(cors_origins=["help.example.com"])


def test_importing_the_server_package_does_not_import_fastapi() -> None:
    import subprocess
    import sys

    code = "import sys, grokassist.server; print('fastapi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_missing_fastapi_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from grokassist.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "fastapi", None)
    monkeypatch.delitem(sys.modules, "grokassist.server.app", raising=False)
    from grokassist.server import create_app

    with pytest.raises(MissingDependencyError, match=r'pip install "grokassist\[server\]"'):
        create_app(None)  # type: ignore[arg-type]


def test_long_secrets_are_spotted_by_their_opening_so_streams_stay_live() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9." + "x7" * 400
    g = OutputGuard([], [token])
    assert g.holdback == 64
    assert g.violation(f"here: {token[:40]}") == "secret"
    assert g.redact(f"token={token};") == f"token={REDACTED};"
