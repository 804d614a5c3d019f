"""Trust tiers: where a source's text comes from, and what an answer may do with it.

Every source the assistant reads has a tier, kept in its metadata under
:data:`TRUST_KEY` from ingest through retrieval, prompts, citations and the API:

``official``
    The support documents. Their sentences may be stated as fact.
``live``
    Status systems and host-product tools (:mod:`grokassist.live`): facts with a
    fetch time, stated as current only while they are fresh, and cited with
    their time ("Service status, as of 14:02 UTC").
``community``
    Forums, social posts, customer messages. Never stated as fact: the
    grounding guard and the extractive composer do not take support from them,
    and models are not shown them. With ``answer.community = "attributed"`` the
    assistant may *report* them, in one marked line that starts with
    :data:`COMMUNITY_PREFIX`, and only when no official or live source answers
    the question (the higher tier wins; off by default: see docs/live-data.md).

A document's tier is set at ingest (:class:`TrustRules`: a default tier such as
``grokassist ingest PATH --trust community``, patterns on the document's id, path
or address, and ``key=value`` rules on its metadata) and may be lowered, never
raised, by the document itself (front matter ``trust: community``): a forum post
that writes ``trust: official`` stays community. When several rules match, the
most cautious tier wins. Documents are ``official`` or ``community``; ``live`` is
for sources that carry a fetch time. A passage without a tier (ingested before
tiers existed) is official; one whose tier is not a known name is community.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .errors import ConfigurationError
from .types import Document, MetadataValue, Passage, ScoredPassage

__all__ = [
    "AS_OF_KEY",
    "COMMUNITY_PREFIX",
    "DOCUMENT_TIERS",
    "FACT_TIERS",
    "TIERS",
    "TRUST_KEY",
    "Tier",
    "TrustRules",
    "fact_sources",
    "is_fact",
    "most_cautious",
    "parse_tier",
    "tier_of",
]

Tier = Literal["official", "live", "community"]
TIERS: tuple[Tier, ...] = get_args(Tier)
#: tiers whose sentences may be stated as fact
FACT_TIERS: frozenset[str] = frozenset({"official", "live"})
#: tiers a document may have (``live`` needs a fetch time: grokassist.live)
DOCUMENT_TIERS: tuple[Tier, ...] = ("official", "community")
#: the metadata key of a source's tier
TRUST_KEY = "trust"
#: the metadata key of a live source's fetch time (ISO 8601, UTC)
AS_OF_KEY = "as_of"
#: how every report of community content starts (the widget and the evaluation recognise it)
COMMUNITY_PREFIX = (
    "Some customers report (unverified community posts, not confirmed by our official sources):"
)

_CAUTION: dict[str, int] = {"official": 0, "live": 1, "community": 2}


def parse_tier(value: object, *, documents: bool = False) -> Tier:
    """``value`` as a tier; :class:`ConfigurationError` naming the choices otherwise."""
    allowed = DOCUMENT_TIERS if documents else TIERS
    text = str(value).strip().lower()
    if text not in allowed:
        hint = " (live is for status feeds and tools: grokassist.live)" if text == "live" else ""
        raise ConfigurationError(f"unknown trust tier {value!r}: use one of {', '.join(allowed)}{hint}")
    return text


def _tier_value(value: object) -> Tier:
    try:
        return parse_tier(value, documents=True)
    except ConfigurationError as exc:  # pydantic reports ValueErrors with the field's location
        raise ValueError(str(exc)) from None


def most_cautious(*tiers: Tier) -> Tier:
    """The least trusted of ``tiers`` (community < live < official); official if none."""
    return max(tiers, key=lambda t: _CAUTION[t], default="official")


def tier_of(source: Passage | ScoredPassage | Mapping[str, Any]) -> Tier:
    """A source's tier: official when it has none, community when it is not a known name."""
    if isinstance(source, ScoredPassage):
        metadata: Mapping[str, Any] = source.passage.metadata
    elif isinstance(source, Passage):
        metadata = source.metadata
    else:
        metadata = source
    value = metadata.get(TRUST_KEY)
    if value is None:
        return "official"
    text = str(value).strip().lower()
    return text if text in _CAUTION else "community"  # type: ignore[return-value]


def is_fact(source: Passage | ScoredPassage | Mapping[str, Any]) -> bool:
    """Whether a source's sentences may be stated as fact (official and live sources)."""
    return tier_of(source) in FACT_TIERS


def fact_sources(passages: Sequence[ScoredPassage]) -> tuple[ScoredPassage, ...]:
    """The passages whose sentences may be stated as fact, in order."""
    return tuple(sp for sp in passages if is_fact(sp))


class TrustRules(BaseModel):
    """How documents get their tier at ingest.

    ``default`` applies to every document; ``patterns`` map a shell-style pattern
    (``forum/*``, ``*.community.md``, ``https://community.example.com/*``), matched
    against the document's id, file path and address, to a tier; ``fields`` map a
    ``key=value`` of the document's metadata (``category=forum``, ``origin=...``)
    to a tier. The most cautious of the default, every matching rule and the
    document's own ``trust`` field wins.

    >>> TrustRules(patterns={"forum/*": "community"}).tier(Document(id="forum/a.md", text="x"))
    ('community', 'pattern forum/*')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Tier = "official"
    patterns: dict[str, Tier] = Field(default_factory=dict)
    fields: dict[str, Tier] = Field(default_factory=dict)

    @field_validator("default", mode="before")
    @classmethod
    def _default(cls, value: object) -> Tier:
        return _tier_value(value)

    @field_validator("patterns", "fields", mode="before")
    @classmethod
    def _rules(cls, value: object) -> dict[str, Tier]:
        if not isinstance(value, Mapping):
            raise ValueError("a table of rule -> tier")
        return {str(k): _tier_value(v) for k, v in value.items()}

    @field_validator("fields")
    @classmethod
    def _field_shape(cls, value: dict[str, Tier]) -> dict[str, Tier]:
        for rule in value:
            key, sep, _ = rule.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"field rule {rule!r} is not key=value")
        return value

    @classmethod
    def of(cls, spec: TrustRules | str | Mapping[str, Any] | None) -> TrustRules:
        """Rules from a tier name, a mapping of the fields above, or rules (``None``: all official)."""
        if spec is None:
            return cls()
        if isinstance(spec, TrustRules):
            return spec
        if isinstance(spec, str):
            return cls(default=parse_tier(spec, documents=True))
        return cls.model_validate(dict(spec))

    def merged(self, other: TrustRules) -> TrustRules:
        """These rules and ``other``'s together (the more cautious default; both sets of rules,
        the more cautious tier where both name the same rule)."""

        def union(a: dict[str, Tier], b: dict[str, Tier]) -> dict[str, Tier]:
            out = dict(a)
            for key, tier in b.items():
                out[key] = most_cautious(out.get(key, tier), tier)
            return out

        return TrustRules(
            default=most_cautious(self.default, other.default),
            patterns=union(self.patterns, other.patterns),
            fields=union(self.fields, other.fields),
        )

    def tier(self, doc: Document) -> tuple[Tier, str]:
        """The document's tier and the rule that set it."""
        tier: Tier = self.default
        why = "default" if self.default != "official" else ""
        names = [doc.id, doc.source, str(doc.metadata.get("path", ""))]
        for pattern, rule in self.patterns.items():
            matched = any(name and fnmatch.fnmatchcase(name, pattern) for name in names)
            if matched and _CAUTION[rule] > _CAUTION[tier]:
                tier, why = rule, f"pattern {pattern}"
        for rule_text, rule in self.fields.items():
            key, _, value = rule_text.partition("=")
            found = doc.metadata.get(key.strip())
            equal = found is not None and str(found).strip().lower() == value.strip().lower()
            if equal and _CAUTION[rule] > _CAUTION[tier]:
                tier, why = rule, f"field {rule_text}"
        own = doc.metadata.get(TRUST_KEY)
        if own is not None:
            text = str(own).strip().lower()
            stated: Tier = text if text in DOCUMENT_TIERS else "community"
            if _CAUTION[stated] > _CAUTION[tier]:
                tier, why = stated, f"its own trust field ({own!r})"
        return tier, why

    def apply(self, doc: Document) -> Document:
        """``doc`` with its tier in its metadata; a non-official tier changes its content hash,
        so that changing a document's tier re-indexes it."""
        tier, _ = self.tier(doc)
        metadata: dict[str, MetadataValue] = {**doc.metadata, TRUST_KEY: tier}
        digest = doc.content_hash
        if tier != "official" and digest:
            digest = hashlib.sha256(f"{digest}\x00trust={tier}".encode()).hexdigest()
        return doc.model_copy(update={"metadata": metadata, "content_hash": digest})
