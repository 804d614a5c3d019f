"""Documents cannot give orders: find text in a document that addresses the assistant.

A support article speaks to the customer ("you") about a product. Text that
speaks to the *assistant* instead is an injection attempt, whatever it asks
for: to ignore its rules, to reveal its prompt, to tell the customer something,
to insert a link or a code in every answer. :func:`scan` finds such text by
rules in several languages, grouped by what they give away:

* ``override``: "ignore all previous instructions", "from now on you are ...";
* ``addressed``: text aimed at AI readers ("note to AI assistants", "if you
  are a language model");
* ``directive``: orders about what to answer ("tell the customer that ...",
  "always include this link in your answer", "respond only with ...");
* ``prompt-leak``: requests to reveal the system prompt, instructions or keys;
* ``role-turn``: fake conversation turns and chat-template tokens
  (``System:``, ``<|im_start|>``, ``[INST]``, ``### Instruction``).

A knowledge base flags every passage of a document in which :func:`scan` finds
something (the whole document is untrusted: its planted facts need not sit
next to its orders), lists it in the ingest report, and the assistant never
answers from it. :func:`neutralise` removes chat-template tokens and source
delimiters from any passage before it enters a prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FLAG_KEY", "Finding", "neutralise", "scan"]

#: Passage metadata key that marks a passage of a flagged document (value: the reasons).
FLAG_KEY = "grokassist_injection"

_AI = (
    r"(?:ai|a\.i\.|artificial intelligence|assistants?|chat ?bots?|bots?|language models?|llms?|gpts?|chatgpt"
    r"|grok|claude|gemini|copilot|virtual agents?|automated (?:systems?|agents?|assistants?)|models?"
    r"|asistentes?|asisten|ia|ki|künstliche intelligenz|assistente|assistant virtuel|人工智能|助手|机器人)"
)
_PEOPLE = r"(?:users?|customers?|callers?|visitors?|readers?|owners?|clients?|people|humans?|subscribers?)"
_RULES: tuple[tuple[str, str], ...] = (
    # -- override: change or drop the assistant's instructions ---------------------------------------
    (
        "override",
        r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}\b(?:previous|prior|above|earlier|all|"
        r"any|your|the|system|original|existing|other)\b[^.\n]{0,30}\b(?:instructions?|rules?|prompts?|"
        r"guidelines?|directives?|policies|restrictions?|constraints?|programming|context|documents?|sources?)\b",
    ),
    ("override", r"\b(?:new|updated|real|actual|secret|hidden) (?:system )?instructions?\s*[:\-]"),
    ("override", r"\b(?:from now on|starting now|henceforth),? (?:you|the assistant)\b"),
    ("override", r"\byou are (?:now|no longer)\b"),
    ("override", r"\b(?:pretend|act) (?:to be|as if you|as an?|as the)\b"),
    (
        "override",
        r"\b(?:developer|debug|god|jailbreak|dan|maintenance) mode\b[^.\n]{0,40}\b(?:you|assistant)\b",
    ),
    (
        "override",
        r"\b(?:ignora|olvida|descarta)\b[^.\n]{0,30}\binstrucciones\b"
        r"|\b(?:abaikan|lupakan|acuhkan)\b[^.\n]{0,30}\b(?:instruksi|perintah|aturan)\b"
        r"|\b(?:ignoriere|ignorieren|vergiss|vergessen)\b[^.\n]{0,30}\b(?:anweisungen|regeln|vorgaben)\b"
        r"|\b(?:ignore[zr]?|oublie[zr]?)\b[^.\n]{0,30}\b(?:instructions|consignes|règles)\b"
        r"|\b(?:ignore|esqueça|ignorar)\b[^.\n]{0,30}\binstruções\b"
        r"|(?:忽略|无视|忘记|忽视)[^。\n]{0,12}(?:指令|指示|说明|规则|提示)",
    ),
    # -- addressed to AI readers ----------------------------------------------------------------------
    (
        "addressed",
        rf"\b(?:note|message|instructions?|attention|reminder|memo|policy|notice|update|guidance|request)"
        rf"\s+(?:to|for)\s+(?:any\s+|all\s+|the\s+)?{_AI}\b",
    ),
    # "... for AI assistants:", "para asistentes de IA:", "an den KI-Assistenten:", "untuk asisten AI:"
    (
        "addressed",
        rf"\b(?:for|to|para|a|an|untuk|kepada|pour|à|aux|für)\s+(?:\w+\s+){{0,2}}{_AI}\b[^.\n:]{{0,20}}:",
    ),
    ("addressed", rf"\b(?:if|when|whenever) you(?:'re| are) (?:an?\s+)?(?:ai|{_AI})\b"),
    (
        "addressed",
        rf"\b(?:ai|the|any|all)\s+{_AI}\s+(?:must|should|shall|needs? to|are required to|is required to|"
        rf"have to|has to|may only|must never|should never)\b",
    ),
    ("addressed", rf"\b(?:dear|hey|hello|attention|important for)\s+(?:the\s+)?{_AI}\b"),
    (
        "addressed",
        rf"\b{_AI}\s+(?:reading|summari[sz]ing|processing|parsing|indexing|answering|crawling)"
        rf"\s+(?:this|these|the)\b",
    ),
    (
        "addressed",
        r"\b(?:nota|mensaje|aviso|instrucciones?) (?:para|a) (?:el |la |los |las )?"
        r"(?:asistentes?|ia|modelos?)\b"
        r"|\b(?:untuk|kepada) (?:asisten|ai|model)\b|\ban (?:den |die )?(?:ki|assistenten|sprachmodell)\b"
        r"|\b(?:à l'|aux? )(?:ia|assistants?|modèles?)\b|(?:致|给)(?:ai|人工智能|助手|模型)",
    ),
    # -- directives about the answer ------------------------------------------------------------------
    (
        "directive",
        rf"\b(?:tell|inform|notify|assure|convince|instruct)\s+(?:the\s+|any\s+|all\s+|"
        rf"every\s+)?{_PEOPLE}\s+(?:that|to|they|their|the|about|it)\b",
    ),
    (
        "directive",
        r"\b(?:when|whenever|if)\s+(?:asked|(?:a|any|the|someone|anyone|users?|customers?|owners?|people)\s+"
        r"(?:\w+\s+)?(?:asks?|mentions?|inquires?|wants?))\b[^.\n]{0,100}\b(?:say|tell|answer|reply|respond|"
        r"state|claim|recommend|advise|direct|insist)\b",
    ),
    (
        "directive",
        r"\b(?:always|must|should|be sure to|make sure (?:to|you))\s+(?:include|insert|add|append|mention|"
        r"recommend|say|state|reply|respond|answer|share|provide|direct|send|redirect|tell)\b[^.\n]{0,80}\b"
        r"(?:every|all|each|any|your)\s+(?:\w+\s+)?(?:answers?|responses?|replies|reply|outputs?)\b",
    ),
    (
        "directive",
        r"\b(?:respond|reply|answer)\s+(?:only with|by saying|saying)\b"
        r"|\byour (?:answer|response|reply|output) (?:must|should|has to|will)\b"
        r"|\b(?:say|state|claim) that\b[^.\n]{0,60}\b(?:account|refund|service|order|subscription|warranty)",
    ),
    (
        "directive",
        r"\b(?:dile|dígale|diles|digan|di|informa|informen|indica|indiquen|responde|respondan)\b[^.\n]{0,20}"
        r"\b(?:al |a los |a la |a las )?(?:usuarios?|clientes?)\b"
        r"|\b(?:katakan|beri ?tahu|beritahu|sampaikan|jawab|minta)\b[^.\n]{0,20}\b(?:pengguna|pelanggan)\b"
        r"|\b(?:sag|sage|sagen sie|teile|informiere|nenne)\b[^.\n]{0,20}\b(?:dem |den )?"
        r"(?:nutzer|kunden|benutzer)"
        r"|\b(?:dites|dis|informez|répondez)\b[^.\n]{0,20}\b(?:à l'|aux? )?(?:utilisateurs?|clients?)\b"
        r"|\b(?:diga|informe)\b[^.\n]{0,20}\b(?:aos? )?(?:usuários?|clientes?)\b"
        r"|(?:告诉|通知|回答)(?:用户|客户)",
    ),
    # -- prompt leak ---------------------------------------------------------------------------------
    (
        "prompt-leak",
        r"\b(?:reveal|print|show|output|repeat|display|leak|share|disclose|dump|list|write out|recite)\s+"
        r"(?:me\s+)?(?:your|the|all|its)\s+(?:\w+\s+){0,2}(?:system prompt|prompt|instructions|rules|"
        r"configuration|api keys?|secrets?|credentials|hidden text|initial prompt)\b",
    ),
    ("prompt-leak", r"\bsystem prompt\b|\bprompt (?:injection|instructions)\b"),
    # -- phishing: urgency and a threat to the account, with somewhere to go -------------------------
    (
        "phishing",
        r"\b(?:account|service|subscription|robot|device)\b[^.\n]{0,30}\b(?:suspended|deleted|deactivated|locked|"
        r"terminated|closed|flagged|disabled)\b[^\n]{0,60}\b(?:call|click|visit|log ?in|contact|verify|text|"
        r"e-?mail)\b[^\n]{0,60}\b(?:immediately|urgently|within \d+ (?:hours?|minutes?)|to avoid|"
        r"right away)\b",
    ),
    (
        "phishing",
        r"\b(?:verify|confirm|re-?enter|validate)\s+(?:your\s+)?(?:account|identity|password|card|payment|"
        r"credentials|details)\b[^\n]{0,80}(?:https?://|www\.|@)",
    ),
    # credential harvesting: support never asks for a password, a card's security code or a one-time code
    (
        "phishing",
        r"(?<!never )(?<!not )(?<!n't )\b(?:have|provide|give|send|share|tell|read out|email|e-mail|text)\b"
        r"[^.\n]{0,60}\b(?:password|passcode|pin|security code|cvv|cvc|one-time code|verification code|"
        r"credentials)\b[^.\n]{0,60}\b(?:ready|agents?|representatives?|us|support|technicians?)\b",
    ),
    # -- fake turns and chat-template tokens -----------------------------------------------------------
    (
        "role-turn",
        r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id)\|>"
        r"|<(?:start|end)_of_turn>|\[/?INST\]|<</?SYS>>",
    ),
    (
        "role-turn",
        r"(?im)(?:^|<!--|\]\s)\s*(?:#{1,4}\s*)?(?:(?:ai|the|chat)\s+)?(?:system|assistant|instruction|"
        r"new instructions?|bot|model)(?:\s+(?:instructions?|notes?|rules?|prompt))?\s*:",
    ),
    ("role-turn", r"(?im)^\s*#{2,4}\s*(?:instruction|system|response)s?\s*:?\s*$"),
)
_COMPILED = tuple((kind, re.compile(pattern, re.I | re.M)) for kind, pattern in _RULES)

_TEMPLATE_TOKENS = re.compile(
    r"<\|[a-z_]{2,20}\|>|<(?:start|end)_of_turn>|\[/?INST\]|<</?SYS>>|</?s>|</?source[^>]*>", re.I
)


@dataclass(frozen=True)
class Finding:
    """What :func:`scan` found: the rule kinds and the text that matched first."""

    kinds: tuple[str, ...]
    excerpt: str

    @property
    def reason(self) -> str:
        """One line for an ingest report."""
        return f"{', '.join(self.kinds)}: {self.excerpt!r}"


def scan(text: str) -> Finding | None:
    """The injection attempts in ``text``, or ``None`` if it reads like an ordinary article."""
    kinds: list[str] = []
    excerpt = ""
    for kind, pattern in _COMPILED:
        match = pattern.search(text)
        if match is None or kind in kinds:
            continue
        kinds.append(kind)
        if not excerpt:
            start = max(0, match.start() - 20)
            excerpt = " ".join(text[start : match.end() + 40].split())[:120]
    if not kinds:
        return None
    return Finding(tuple(kinds), excerpt)


def neutralise(text: str) -> str:
    """``text`` without chat-template tokens and source delimiters (they would end its quotation)."""
    return _TEMPLATE_TOKENS.sub(" ", text)
