"""Personal data out of text before it leaves the process: e-mail addresses, phone
numbers, payment card numbers and IBANs.

Phone numbers are found by Google's libphonenumber (the ``phonenumbers`` package: only
numbers valid for their country, so dates, order numbers and prices stay); card numbers
and IBANs are candidates that pass their check digits (``python-stdnum``: Luhn, ISO 13616),
so other long numbers stay too.
"""

from __future__ import annotations

import re

from .._optional import require

__all__ = ["PersonalDataRedactor"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# 13 to 19 digits, in groups separated by single spaces or dashes
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")


class PersonalDataRedactor:
    """Replaces personal data with ``[email]``, ``[phone]``, ``[card]`` and ``[iban]``."""

    def __init__(self, *, phone_region: str = "US") -> None:
        feature = "redacting personal data from tickets"
        self._phonenumbers = require("phonenumbers", extra="server", feature=feature)
        self._luhn = require("stdnum.luhn", package="python-stdnum", extra="server", feature=feature)
        self._iban = require("stdnum.iban", package="python-stdnum", extra="server", feature=feature)
        self.phone_region = phone_region.upper()

    def __call__(self, text: str) -> str:
        text = _EMAIL.sub("[email]", text)
        text = _IBAN.sub(lambda m: "[iban]" if self._iban.is_valid(m.group()) else m.group(), text)
        text = _CARD.sub(self._card, text)
        return self._phones(text)

    def _card(self, match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        return "[card]" if self._luhn.is_valid(digits) else match.group()

    def _phones(self, text: str) -> str:
        pn = self._phonenumbers
        found = list(pn.PhoneNumberMatcher(text, self.phone_region, leniency=pn.Leniency.VALID))
        for match in reversed(found):
            text = text[: match.start] + "[phone]" + text[match.end :]
        return text
