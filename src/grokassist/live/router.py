"""Which questions ask about the current state of the service (and so go to a status source).

"Is there an outage in my area?", "Is Starlink down right now?", "any
incidents today?" ask how things are now; "How do I get an outage credit?" and
"What should I do during an outage?" ask how things work, and the support
articles answer them. :func:`asks_status` tells them apart by the form of the
question, not by the word "outage" alone:

* a yes/no question about trouble ("is there an outage", "are there any
  problems", "is the service down", "is it working");
* a question about the status itself ("what is the service status", "status
  of the network");
* trouble words with a "now" cue ("right now", "currently", "today", "in my
  area", "near me").

Questions about what to do, policies, credits, notifications and how-tos are
excluded even when they share the words. The same forms are read in Spanish
("¿Hay una caída del servicio en mi zona?", "¿Starlink está caído ahora?") and
Indonesian ("Apakah ada gangguan di daerah saya?", "Apakah Starlink sedang
down?"), the languages the assistant answers in (docs/languages.md). Measured on the example sets
(``python bench/live_routing.py``, docs/live-data.md): it routes 25 of the 25
status questions of ``examples/eval/live`` and none of the 12 near-miss how-to
questions there or of the 204 Starlink, Optimus, off-topic and injection
questions; those sets were used to write it, and on 15 status and 15 other
questions written afterwards it routed 12 and 0.
"""

from __future__ import annotations

import re

__all__ = ["asks_status"]

_DOWN = r"down(?!\s+(?:to|by|from)\b)"  # not "down to $199"
_TROUBLE = (
    rf"(?:outages?|{_DOWN}|offline|disruptions?|incidents?|maintenance|degraded|interruptions?|downtime|"
    r"not working)"
)
_EVENTS = r"(?:outages?|disruptions?|incidents?|maintenance|interruptions?|downtime)"
_QUALIFIED = (
    r"(?:known|current|ongoing|active|reported|network|service|widespread|major|big|planned|scheduled)"
)
#: yes/no questions about trouble now
_YES_NO = re.compile(
    rf"\b(?:is|are)\s+there\s+(?:an?\s+|any\s+|some\s+)?(?:{_QUALIFIED}\s+)*(?:{_EVENTS}|problems?|issues?)\b"
    r"|\b(?:is|are)\s+(?:the\s+)?(?:service|network|internet|system|servers?|satellites?|starlink|it|they|"
    r"everything|things)\s+(?:\w+\s+)?(?:down|offline|out|up|working|degraded|operational)\b"
    rf"|\bany\s+(?:{_QUALIFIED}\s+)*{_EVENTS}\b|\bany\s+(?:{_QUALIFIED}\s+)+(?:problems?|issues?)\b"
    rf"|\b(?:is|are)\s+[\w']+(?:\s+[\w']+){{0,2}}\s+(?:{_DOWN}|offline|(?:having|experiencing)\s+"
    r"(?:an?\s+|any\s+)?(?:outages?|problems?|issues?|difficulties|downtime|disruptions?))\b"
    rf"|\b(?:seems?|looks?)\s+(?:to\s+be\s+)?(?:{_DOWN}|offline)\b"
    r"|\b(?:is|was)\s+(?:it|this|that)\s+(?:an?\s+)?(?:\w+\s+)?(?:outage|network problem|network issue)\b",
    re.I,
)
#: questions about the status itself
_STATUS = re.compile(
    r"\b(?:what(?:'s| is)|how(?:'s| is)|check|show|tell me)\s+(?:the\s+)?(?:current\s+)?"
    r"(?:service|network|system)\s+status\b"
    r"|\bstatus\s+of\s+(?:the\s+)?(?:service|network|system|internet|starlink)\b"
    r"|\b(?:service|network)\s+status\s+(?:now|right now|today|currently)\b"
    r"|\bstatus\s+page\s+(?:say|says|show|shows|showing|report|reports|reporting)\b",
    re.I,
)
_NOW = re.compile(
    r"\b(?:right now|now|currently|at the moment|today|tonight|this (?:morning|afternoon|evening)|again|"
    r"in my (?:area|region|town|city|country)|near me|around me|where i live|in \w+ right now)\b",
    re.I,
)
_TROUBLE_WORD = re.compile(rf"\b{_TROUBLE}\b", re.I)
#: an event of the service itself: an outage, downtime, a disruption, an incident
_EVENT_WORD = re.compile(rf"\b{_EVENTS}\b", re.I)
#: the service (not the customer's own kit) in a bad state: "Starlink gone down", "something wrong
#: with the network"
_SERVICE_STATE = re.compile(
    r"\b(?:starlink|service|network|internet|servers?|satellites?|everything|everyone)\b"
    r"(?:\s+[\w']+){0,3}?\s+"
    rf"(?:(?:gone|go|went|goes|been|be)\s+)?(?:{_DOWN}|offline|not working|having (?:issues|problems))\b"
    r"|\b(?:something|anything)\s+(?:wrong|going on|up)\s+with\s+(?:the\s+)?"
    r"(?:starlink|service|network|internet)\b"
    r"|\b(?:issues?|problems?)\s+with\s+(?:the\s+)?(?:starlink|service|network|internet|satellites?)\b",
    re.I,
)
#: how-to, what-to-do and policy questions: the articles answer them, whatever words they share
_NOT_STATUS = re.compile(
    r"\b(?:how (?:do|can|should|would|often|long) (?:i|we|you|they|outages?|it)|how to|"
    r"what (?:should|do|can) (?:i|we)|"
    r"what happens|what to do|credits?|refunds?|compensation|reimburse|notifications?|notified|"
    r"alerts?|why does|why do|what does .{0,40} mean|what is an?|what are|"
    r"where (?:do|can) i (?:see|find|check)|"
    r"during an? (?:outage|maintenance)|after an? (?:outage|maintenance)|policy|usually|normally|"
    r"warranty|covered|report an?|price|cost|compensat\w*|look like|happen)\b"
    r"|^\s*if\b|\bif (?:the |my |our |your )?(?:internet|service|network|dish|connection|starlink)\b",
    re.I,
)
#: the question asks whether something exists or happened
_EXISTS = re.compile(
    r"\b(?:is there|are there|any|has there been|have there been|aware of|tell me if|confirm|reported|"
    r"known)\b",
    re.I,
)


# -- Spanish and Indonesian: the same forms, fewer of them ----------------------------------
#: Spanish: events of the service, and the service's bad state
_ES_EVENTS = (
    r"(?:ca[ií]das?|cortes?|interrupci[oó]n(?:es)?|incidencias?|incidentes?|aver[ií]as?|mantenimiento)"
)
_ES_STATE = (
    r"(?:ca[ií]d[oa]s?|fuera de servicio|sin servicio|sin conexi[oó]n|no funcionan?|con problemas|fallando)"
)
#: Indonesian: events of the service, and the service's bad state
_ID_EVENTS = r"(?:gangguan|pemeliharaan|perawatan|pemadaman)"
_ID_STATE = r"(?:down|mati|padam|terputus|putus|offline|bermasalah|gangguan|tidak berfungsi|error)"
_OTHER_STATUS = re.compile(
    # Spanish: "¿hay (alguna) caída / algún corte?", "¿está caído?", "estado del servicio"
    rf"\bhay\s+(?:(?:una?|alg[uú]na?|alg[uú]n|algunos?|algunas)\s+)?{_ES_EVENTS}\b"
    rf"|\b(?:est[aá]n?|sigue|siguen)\s+(?:\w+\s+)?{_ES_STATE}\b"
    r"|\bestado\s+(?:actual\s+)?de(?:l| la)\s+(?:servicio|red|sistema|internet|starlink)\b"
    # Indonesian: "apakah ada gangguan", "apakah (layanan) sedang down", "status layanan"
    rf"|\bada\s+(?:\w+\s+)?{_ID_EVENTS}\b"
    rf"|\b(?:sedang|lagi|masih)\s+{_ID_STATE}\b"
    rf"|\b(?:layanan|jaringan|internet|starlink|sistem|server)\s+(?:\w+\s+)?{_ID_STATE}\b"
    r"|\bstatus\s+(?:layanan|jaringan|sistem|starlink)\b",
    re.I,
)
_OTHER_NOW = re.compile(
    r"\b(?:ahora(?: mismo)?|en este momento|actualmente|hoy|en mi (?:zona|[aá]rea|ciudad|regi[oó]n|pa[ií]s)|"
    r"sekarang|saat ini|hari ini|di (?:daerah|wilayah|area|kota|tempat) saya)\b",
    re.I,
)
_OTHER_TROUBLE = re.compile(rf"\b(?:{_ES_EVENTS}|{_ES_STATE}|{_ID_EVENTS}|{_ID_STATE})\b", re.I)
_OTHER_NOT_STATUS = re.compile(
    r"\b(?:c[oó]mo|qu[eé] (?:debo|hago|puedo|pasa|significa)|por qu[eé]|reembolsos?|cr[eé]ditos?|"
    r"compensaci[oó]n|garant[ií]a|precio|cuesta|notificaci[oó]n(?:es)?|avisos?|"
    r"bagaimana|cara|apa yang (?:harus|perlu)|kenapa|mengapa|kompensasi|pengembalian dana|kredit|"
    r"garansi|harga|biaya|notifikasi|pemberitahuan|artinya)\b"
    r"|^\s*[¿¡]?\s*(?:si|jika|kalau|apabila)\b",
    re.I,
)


def _asks_status_other(text: str) -> bool:
    """:func:`asks_status` for a question in Spanish or Indonesian."""
    if _OTHER_NOT_STATUS.search(text):
        return False
    return bool(_OTHER_STATUS.search(text) or (_OTHER_NOW.search(text) and _OTHER_TROUBLE.search(text)))


def asks_status(question: str) -> bool:
    """Whether ``question`` asks about the current state of the service (see the module docstring)."""
    text = " ".join(question.split())
    if not text or _NOT_STATUS.search(text):
        return False
    if _asks_status_other(text):
        return True
    if _YES_NO.search(text) or _STATUS.search(text) or _SERVICE_STATE.search(text):
        return True
    if _EVENT_WORD.search(text) and (_EXISTS.search(text) or _NOW.search(text) or len(text.split()) <= 4):
        return True
    return bool(_NOW.search(text) and _TROUBLE_WORD.search(text))
