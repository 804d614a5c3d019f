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
excluded even when they share the words. Measured on the example evaluation
sets (docs/live-data.md): it routes 0 of the 150 Starlink, Optimus and
off-topic questions and 24 of the 25 status questions of
``examples/eval/live/queries.jsonl``.
"""

from __future__ import annotations

import re

__all__ = ["asks_status"]

_TROUBLE = (
    r"(?:outages?|down|offline|disruptions?|incidents?|(?:planned |scheduled )?maintenance|degraded|"
    r"problems?|issues?|interruptions?|not working|working|up|out|broken)"
)
#: yes/no questions about trouble now
_YES_NO = re.compile(
    r"\b(?:is|are)\s+there\s+(?:an?\s+|any\s+|some\s+)?(?:known\s+|current\s+|ongoing\s+|active\s+|"
    r"reported\s+|network\s+|service\s+|widespread\s+|major\s+|big\s+)*"
    r"(?:outages?|disruptions?|incidents?|maintenance|problems?|issues?|interruptions?|downtime)\b"
    r"|\b(?:is|are)\s+(?:the\s+)?(?:service|network|internet|system|servers?|satellites?|starlink|it|they|"
    r"everything|things)\s+(?:\w+\s+)?(?:down|offline|out|up|working|broken|degraded)\b"
    r"|\bany\s+(?:known\s+|current\s+|ongoing\s+|active\s+|reported\s+)*(?:outages?|disruptions?|"
    r"incidents?|maintenance|problems?|issues?|interruptions?|downtime)\b"
    r"|\b(?:is|are)\s+\w+(?:\s+\w+)?\s+(?:down|offline|having\s+(?:an?\s+)?(?:outage|problems?|issues?))\b",
    re.I,
)
#: questions about the status itself
_STATUS = re.compile(
    r"\b(?:what(?:'s| is)|how(?:'s| is)|check|show|tell me)\s+(?:the\s+)?(?:current\s+)?"
    r"(?:service|network|system)\s+status\b"
    r"|\bstatus\s+of\s+(?:the\s+)?(?:service|network|system|internet|starlink)\b"
    r"|\b(?:service|network)\s+status\s+(?:now|right now|today|currently)\b",
    re.I,
)
_NOW = re.compile(
    r"\b(?:right now|now|currently|at the moment|today|tonight|this (?:morning|afternoon|evening)|"
    r"in my (?:area|region|town|city|country)|near me|around me|where i live|in \w+ right now)\b",
    re.I,
)
_TROUBLE_WORD = re.compile(rf"\b{_TROUBLE}\b", re.I)
#: how-to, what-to-do and policy questions: the articles answer them, whatever words they share
_NOT_STATUS = re.compile(
    r"\b(?:how (?:do|can|should|would) (?:i|we|you)|how to|what (?:should|do|can) (?:i|we)|"
    r"what happens|what to do|credits?|refunds?|compensation|reimburse|notifications?|notified|"
    r"alerts?|why does|what does .{0,40} mean|what is an?|what are|where (?:do|can) i (?:see|find|check)|"
    r"during an? (?:outage|maintenance)|after an? (?:outage|maintenance)|policy|usually|normally)\b",
    re.I,
)


def asks_status(question: str) -> bool:
    """Whether ``question`` asks about the current state of the service (see the module docstring)."""
    text = " ".join(question.split())
    if not text or _NOT_STATUS.search(text):
        return False
    if _YES_NO.search(text) or _STATUS.search(text):
        return True
    return bool(_NOW.search(text) and _TROUBLE_WORD.search(text))
