"""Settings: explicit arguments win over ``GROKASSIST_*`` environment variables,
which win over a TOML config file, which wins over the defaults.

The config file is ``$GROKASSIST_CONFIG`` if set, else ``grokassist.toml`` in
the working directory if it exists. Nested fields use ``__`` in environment
variables, e.g. ``GROKASSIST_RETRIEVAL__TOP_K=8``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ConfigurationError
from .trust import TrustRules

__all__ = [
    "AnswerSettings",
    "IngestSettings",
    "LiveSettings",
    "LiveSourceSettings",
    "RetrievalSettings",
    "Settings",
    "TicketingSettings",
    "load_settings",
]


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "grokassist"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestSettings(_Section):
    """How documents are loaded and chunked."""

    max_file_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    chunk_tokens: int = Field(default=200, gt=16)
    chunk_overlap: int = Field(default=40, ge=0)
    extensions: tuple[str, ...] = (".md", ".markdown", ".html", ".htm", ".txt", ".pdf", ".docx")
    #: how documents get their trust tier (grokassist.trust: default, patterns, fields)
    trust: TrustRules = TrustRules()


class RetrievalSettings(_Section):
    """How passages are retrieved and fused."""

    # "default", "minilm", "e5" (multilingual) or a folder with an ONNX sentence-embedding model
    embedder: str = "default"
    documents_language: str = ""  # the documents' language (ISO 639-1); "": detected
    top_k: int = Field(default=5, gt=0)  # passages given to the backend, at most
    max_sources: int = Field(default=3, gt=0)  # documents they come from, at most
    passages_per_source: int = Field(default=2, gt=0)
    candidates: int = Field(default=50, gt=0)
    rrf_k: int = Field(default=5, gt=0)
    chroma_host: str | None = None  # use a Chroma server instead of the embedded store
    chroma_port: int = 8000
    device: str = "auto"  # "auto", "cpu" or "cuda"


class AnswerSettings(_Section):
    """How answers are produced."""

    abstain_below: float = Field(default=0.5, ge=0.0, le=1.0)
    max_citations: int = Field(default=3, gt=0)
    max_tokens: int = Field(default=256, gt=0)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    history_turns: int = Field(default=6, ge=0)  # earlier question-answer pairs given to the model
    evidence: bool = True  # give models the sentences that may answer, not whole passages
    # drop model sentences no source supports; off only to measure what a model says unchecked
    grounding: bool = True
    guard_env_secrets: bool = True  # withhold answers containing values of *_API_KEY, *_TOKEN... variables
    #: community sources (grokassist.trust): "off" never mentions them; "attributed" may report the
    #: best one in one marked "Some customers report ..." line when no official or live source answers
    community: Literal["off", "attributed"] = "off"
    #: who decides to call a host tool (grokassist.live.tools): "auto" lets an OpenAI-compatible model
    #: decide and the keyword router otherwise (a local model fills missing arguments; the packaged
    #: 0.5B model alone calls a tool for most questions that need none: docs/live-data.md); "model"
    #: lets any model decide; "keywords" asks no model
    tool_choice: Literal["auto", "model", "keywords"] = "auto"


class LiveSourceSettings(_Section):
    """A status source the assistant consults for questions about the current state (grokassist.live).

    ``kind``: ``statuspage`` (an Atlassian Statuspage: its address or ``/api/v2/summary.json``),
    ``feed`` (RSS or Atom) or ``json`` (any JSON endpoint, read through ``mapping``: JMESPath
    expressions, see ``grokassist.live.JsonMapping``).
    """

    kind: Literal["statuspage", "feed", "json"]
    url: str
    name: str = "status"
    title: str = "Service status"
    ttl_s: float = Field(default=60.0, gt=0)
    timeout_s: float = Field(default=3.0, gt=0)
    recent_s: float = Field(default=24 * 3600, gt=0)  # feeds: entries newer than this are current
    mapping: dict[str, Any] = Field(default_factory=dict)  # json: the JsonMapping fields
    headers: dict[str, SecretStr] = Field(default_factory=dict)  # an API key, say (never logged)


class LiveSettings(_Section):
    """Live status sources (docs/live-data.md)."""

    sources: list[LiveSourceSettings] = Field(default_factory=list)


class TicketingSettings(_Section):
    """The help desk escalations go to, and its credentials (secrets never appear in a repr or log).

    ``url`` names the system (``rt://rt.example.com/Support``, ``zendesk://acme``,
    ``freshdesk://acme``, ``jsm://acme.atlassian.net/1/10``, ``servicenow://acme``,
    ``github://acme/support``); docs/ticketing.md says which credentials each one takes.
    """

    url: str | None = None
    user: str | None = None  # a user name or e-mail address, where the system wants one
    password: SecretStr | None = None
    token: SecretStr | None = None  # an API token, auth token or API key
    webhook_secret: SecretStr | None = None  # verifies the system's webhooks (agent replies)
    timeout_s: float = Field(default=15.0, gt=0)
    options: dict[str, str] = Field(default_factory=dict)  # per system, e.g. external_id_field


class Settings(BaseSettings):
    """All grokassist settings."""

    model_config = SettingsConfigDict(
        env_prefix="GROKASSIST_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=None,
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    kb: str = "default"
    backend: str = "auto"  # a backend URI, a comma-separated fallback chain, or "auto"
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ticketing: TicketingSettings = TicketingSettings()
    live: LiveSettings = LiveSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def _config_path() -> Path | None:
    explicit = os.environ.get("GROKASSIST_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(f"GROKASSIST_CONFIG points to {path}, which is not a file")
        return path
    local = Path("grokassist.toml")
    return local if local.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings`; a validation problem becomes :class:`ConfigurationError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid grokassist settings:\n{exc}") from exc
