"""Ticketing adapters by URI, with their credentials from settings.

======================================  ====================================================
URI                                     system
======================================  ====================================================
``rt://rt.example.com/Support``         Request Tracker 5, queue ``Support`` (``rt+http://``
                                        for plain HTTP; a path before the queue is RT's path)
``zendesk://acme``                      Zendesk ``acme.zendesk.com``
``freshdesk://acme``                    Freshdesk ``acme.freshdesk.com``
``jsm://acme.atlassian.net/1/10``       Jira Service Management: service desk 1, request type 10
``servicenow://acme``                   ServiceNow ``acme.service-now.com``, table ``incident``
``github://acme/support``               GitHub Issues of the repository ``acme/support``
======================================  ====================================================

A host with a dot is used as it is (``zendesk://help.acme.com``). Credentials come from the
keyword arguments, else from :class:`~grokassist.config.TicketingSettings` (``[ticketing]`` in
the TOML file, or ``GROKASSIST_TICKETING__TOKEN`` and friends). Third parties register a factory
``(uri, **options) -> TicketingAdapter`` in the entry-point group ``grokassist.ticketing``, or call
:func:`register_ticketing`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from .base import TicketingAdapter

if TYPE_CHECKING:
    from ...config import TicketingSettings

__all__ = [
    "BUILTIN_TICKETING",
    "ENTRY_POINT_GROUP",
    "TicketingFactory",
    "known_ticketing_schemes",
    "open_ticketing",
    "register_ticketing",
    "split_uri",
]

TicketingFactory = Callable[..., TicketingAdapter]
ENTRY_POINT_GROUP = "grokassist.ticketing"

#: scheme -> "module:function" of a factory ``(uri, **options)``; imported only when used
BUILTIN_TICKETING: dict[str, str] = {
    "freshdesk": "grokassist.adapters.ticketing.freshdesk:from_uri",
    "github": "grokassist.adapters.ticketing.github:from_uri",
    "jsm": "grokassist.adapters.ticketing.jira_sm:from_uri",
    "rt": "grokassist.adapters.ticketing.rt:from_uri",
    "servicenow": "grokassist.adapters.ticketing.servicenow:from_uri",
    "zendesk": "grokassist.adapters.ticketing.zendesk:from_uri",
}
_SCHEME = re.compile(r"^[a-z][a-z0-9.\-_]*$")
_registered: dict[str, TicketingFactory] = {}


def register_ticketing(scheme: str, factory: TicketingFactory) -> None:
    """Register ``factory(uri, **options)`` under ``scheme`` for this process."""
    if not _SCHEME.match(scheme):
        raise ConfigurationError(f"invalid ticketing scheme {scheme!r}")
    _registered[scheme] = factory


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def known_ticketing_schemes() -> list[str]:
    """Every scheme :func:`open_ticketing` accepts, sorted."""
    return sorted({*_registered, *BUILTIN_TICKETING, *_entry_points()})


def _factory(scheme: str) -> TicketingFactory:
    if scheme in _registered:
        return _registered[scheme]
    if scheme in BUILTIN_TICKETING:
        module, _, attribute = BUILTIN_TICKETING[scheme].partition(":")
        factory: TicketingFactory = getattr(importlib.import_module(module), attribute)
        return factory
    entry_point = _entry_points().get(scheme)
    if entry_point is None:
        raise ConfigurationError(
            f"unknown ticketing system {scheme!r}; known: {', '.join(known_ticketing_schemes())} "
            f"(third-party adapters register in the entry-point group {ENTRY_POINT_GROUP!r})"
        )
    try:
        loaded: TicketingFactory = entry_point.load()
    except Exception as exc:
        raise ConfigurationError(f"the ticketing plugin {entry_point.value!r} failed to load: {exc}") from exc
    return loaded


def _from_settings(settings: TicketingSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"timeout": settings.timeout_s, **settings.options}
    if settings.user:
        options["user"] = settings.user
    if settings.password is not None:
        options["password"] = settings.password.get_secret_value()
    if settings.token is not None:
        options["token"] = settings.token.get_secret_value()
    return options


def open_ticketing(
    uri: str | None = None, *, settings: TicketingSettings | None = None, **options: Any
) -> TicketingAdapter:
    """The adapter for ``uri`` (default: the ``ticketing.url`` setting).

    Explicit ``options`` (``token``, ``user``, ``password``, ``timeout``, system-specific ones such
    as ``external_id_field``, or ``transport`` for tests) win over ``settings``, which default to
    :func:`~grokassist.config.load_settings` ``().ticketing``. Nothing connects until first use.
    """
    if settings is None:
        from ...config import load_settings

        settings = load_settings().ticketing
    target = uri or settings.url
    if not target:
        raise ConfigurationError(
            "no ticketing system configured: pass a URI such as rt://rt.example.com/Support, "
            "or set ticketing.url (GROKASSIST_TICKETING__URL)"
        )
    scheme = target.partition("://")[0].lower()
    if "://" not in target or not scheme:
        raise ConfigurationError(f"a ticketing URI looks like scheme://..., not {target!r}")
    base = scheme.partition("+")[0]
    merged = {**_from_settings(settings), **options}
    factory = _factory(base)
    try:
        return factory(target, **merged)
    except TypeError as exc:  # an option this system does not take
        raise ConfigurationError(f"{base}: {exc}") from exc


def split_uri(uri: str, *, default_host: str = "") -> tuple[str, str, list[str]]:
    """``scheme[+http]://host/a/b`` -> (origin, host, [a, b]); ``default_host`` formats a bare name.

    ``default_host`` such as ``"{}.zendesk.com"`` turns ``zendesk://acme`` into ``acme.zendesk.com``;
    a host with a dot or a port is used as it is.
    """
    scheme, _, rest = uri.partition("://")
    plain = scheme.endswith("+http")
    host, _, path = rest.partition("/")
    if not host:
        raise ConfigurationError(f"{uri!r} names no host")
    if default_host and "." not in host and ":" not in host:
        host = default_host.format(host)
    origin = f"{'http' if plain else 'https'}://{host}"
    return origin, host, [part for part in path.split("/") if part]
