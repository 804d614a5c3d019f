"""Settings of the HTTP service: ``GROKASSIST_SERVER_*`` environment variables or
explicit arguments (explicit arguments win).

List fields take JSON in the environment, e.g.
``GROKASSIST_SERVER_API_KEYS='["sk-live-1", "sk-live-2"]'`` and
``GROKASSIST_SERVER_CORS_ORIGINS='["https://help.example.com"]'``. Keep API keys
out of command lines: they show up in ``ps``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..errors import ConfigurationError

__all__ = ["ServerSettings"]


class ServerSettings(BaseSettings):
    """How the service authenticates, limits and stores what it is told."""

    model_config = SettingsConfigDict(env_prefix="GROKASSIST_SERVER_", extra="forbid")

    #: Bearer tokens for server-to-server calls. Empty: no key is checked (development).
    api_keys: list[SecretStr] = Field(default_factory=list)
    #: Whether the widget's customer routes (ask, sessions, feedback, escalate, sources) serve
    #: calls without a key when ``api_keys`` is set. The other routes (the OpenAI-compatible
    #: API, the outbox, webhooks, metrics) always need a key then (docs/security.md).
    allow_anonymous: bool = True
    #: Origins whose pages may call the API from a browser (exact ``scheme://host[:port]``; ``*`` for any).
    cors_origins: list[str] = Field(default_factory=list)
    #: Token bucket per client (API key, else IP address): sustained rate and burst.
    rate_limit_per_minute: float = Field(default=60.0, gt=0)
    rate_limit_burst: int = Field(default=20, gt=0)
    #: Largest request body accepted (413 above it).
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    max_question_chars: int = Field(default=2000, gt=0)
    #: Answers generated at once; more requests wait their turn (backpressure instead of thrashing).
    max_concurrent_answers: int = Field(default=8, gt=0)
    #: Longest an answer may take before the request fails with 504.
    request_timeout_s: float = Field(default=60.0, gt=0)
    #: Sessions expire after this much idle time; the oldest are evicted past ``max_sessions``.
    session_ttl_s: float = Field(default=24 * 3600.0, gt=0)
    max_sessions: int = Field(default=10_000, gt=0)
    #: Where sessions, conversation history, answers, feedback and the escalation outbox live,
    #: shared by every worker and replica that names the same store: ``sqlite:`` (the default:
    #: a file in ``data_dir``; one host), ``sqlite:///path/to/file.sqlite3``,
    #: ``redis://host:6379/0`` (several hosts; rate limits are shared too) or ``memory:``
    #: (this process only).
    store_url: str | None = None
    #: The folder of the default SQLite store (default: ``<grokassist data_dir>/server``).
    data_dir: Path | None = None
    #: Model id shown by ``/v1/models`` (default: ``grokassist-<kb name>``).
    model_name: str | None = None
    #: Append a "Sources:" list with links to OpenAI-compatible answers (for front ends that ignore
    #: the ``grokassist`` extension field).
    openai_sources_footer: bool = True
    #: Extra strings that must never appear in an answer (besides the API keys and the system prompt).
    guard_secrets: list[SecretStr] = Field(default_factory=list)
    #: Also protect the values of environment variables named like ``*_API_KEY``, ``*_TOKEN``,
    #: ``*_SECRET`` or ``*_PASSWORD``.
    guard_env_secrets: bool = True

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        cleaned = [o.strip().rstrip("/") for o in value if o.strip()]
        for origin in cleaned:
            if origin != "*" and not origin.startswith(("http://", "https://")):
                raise ValueError(f"CORS origin {origin!r} must look like https://host[:port]")
        return cleaned

    @field_validator("store_url")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from ..stores import store_kind

        try:
            store_kind(value)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from exc
        return value.strip()

    def key_values(self) -> list[str]:
        """The API keys in clear."""
        return [k.get_secret_value() for k in self.api_keys if k.get_secret_value()]
