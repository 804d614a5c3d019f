"""Credentials and options of the connectors, from ``GROKASSIST_<SERVICE>_*`` environment
variables (or keyword arguments). Secrets are :class:`~pydantic.SecretStr`: a repr, a log
line or an error message shows ``'**********'``, never the value.

=====================================  ==================================================
``GROKASSIST_ZENDESK_EMAIL``           with ``..._API_TOKEN``: an agent's API token
``GROKASSIST_ZENDESK_API_TOKEN``       (anonymous when unset: public articles only)
``GROKASSIST_ZENDESK_OAUTH_TOKEN``     or an OAuth access token
``GROKASSIST_FRESHDESK_API_KEY``       an agent's API key
``GROKASSIST_CONFLUENCE_EMAIL``        with ``..._API_TOKEN``: Confluence Cloud
``GROKASSIST_CONFLUENCE_API_TOKEN``
``GROKASSIST_INTERCOM_ACCESS_TOKEN``   an Intercom access token
``GROKASSIST_WEB_DELAY_S``             seconds between two requests to a website (1.0)
``GROKASSIST_WEB_MAX_PAGES``           pages crawled at most per site (1000)
=====================================  ==================================================
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ConfluenceSettings",
    "FreshdeskSettings",
    "IntercomSettings",
    "WebSettings",
    "ZendeskSettings",
]


class ZendeskSettings(BaseSettings):
    """Zendesk Guide (Help Center) access."""

    model_config = SettingsConfigDict(env_prefix="GROKASSIST_ZENDESK_", extra="forbid", env_ignore_empty=True)

    email: str | None = None
    api_token: SecretStr | None = None
    oauth_token: SecretStr | None = None
    #: Also ingest articles restricted to a user segment (signed-in users, agents).
    include_restricted: bool = False


class FreshdeskSettings(BaseSettings):
    """Freshdesk Solutions access."""

    model_config = SettingsConfigDict(
        env_prefix="GROKASSIST_FRESHDESK_", extra="forbid", env_ignore_empty=True
    )

    api_key: SecretStr | None = None
    #: Also ingest articles of folders that are not visible to all users.
    include_restricted: bool = False


class ConfluenceSettings(BaseSettings):
    """Confluence Cloud access."""

    model_config = SettingsConfigDict(
        env_prefix="GROKASSIST_CONFLUENCE_", extra="forbid", env_ignore_empty=True
    )

    email: str | None = None
    api_token: SecretStr | None = None


class IntercomSettings(BaseSettings):
    """Intercom Articles access."""

    model_config = SettingsConfigDict(
        env_prefix="GROKASSIST_INTERCOM_", extra="forbid", env_ignore_empty=True
    )

    access_token: SecretStr | None = None


class WebSettings(BaseSettings):
    """How the website crawler behaves."""

    model_config = SettingsConfigDict(env_prefix="GROKASSIST_WEB_", extra="forbid", env_ignore_empty=True)

    #: Seconds between two requests to the site (a robots.txt Crawl-delay may ask for more).
    delay_s: float = Field(default=1.0, ge=0.0)
    max_pages: int = Field(default=1000, gt=0)
    user_agent: str = "grokassist"
