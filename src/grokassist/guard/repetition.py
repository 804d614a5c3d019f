"""The repetition guard: a model stuck in a loop is cut at its first repeat.

Small models loop ("$100 for a 1-year plan. $100 for a 2-year plan. ..."): a
sentence is a repeat of an earlier one when both read the same once numbers are
masked and case, spacing and markdown are ignored.
"""

from __future__ import annotations

import re

from ..text import normalise, sentence_ends

__all__ = ["RepetitionGuard"]

_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_MIN_WORDS = 4  # "Yes." twice, or "Thank you!" twice, is not a loop


def _key(sentence: str) -> str:
    return _DIGITS.sub("#", normalise(sentence)).strip(" .!?*:;-")


class RepetitionGuard:
    """Detects a model stuck in a loop: a sentence of four words or more said twice (numbers masked).

    ``feed`` returns the text that may be shown now; once a repeat is found,
    :attr:`tripped` is set and everything from the repeat on is withheld. Text
    streams through as it comes: only an unfinished sentence that is still the
    beginning of an earlier sentence (it may become a repeat) is held back.
    """

    def __init__(self) -> None:
        self.text = ""
        self.shown = 0
        self.tripped = False
        self._seen: set[str] = set()
        self._start = 0  # where the first sentence not yet checked starts

    def _is_repeat(self, sentence: str) -> bool:
        key = _key(sentence)
        if len(key.split()) < _MIN_WORDS:
            return False
        if key in self._seen:
            return True
        self._seen.add(key)
        return False

    def _trip(self, at: int) -> str:
        self.tripped = True
        self.text = self.text[:at].rstrip()
        out = self.text[self.shown :]
        self.shown = len(self.text)
        return out

    def feed(self, piece: str) -> str:
        if self.tripped:
            return ""
        self.text += piece
        while ends := sentence_ends(self.text[self._start :]):
            end, nxt = ends[0]
            if self._is_repeat(self.text[self._start : self._start + end]):
                return self._trip(self._start)
            self._start += nxt
        return self._release()

    def _release(self) -> str:
        partial = _key(self.text[self._start :])
        could_repeat = bool(partial) and any(k.startswith(partial) for k in self._seen)
        safe = self._start if could_repeat else len(self.text)
        out = self.text[self.shown : max(self.shown, safe)]
        self.shown = max(self.shown, safe)
        return out

    def flush(self) -> str:
        """The rest (the last sentence is checked too)."""
        if self.tripped:
            return ""
        if self._is_repeat(self.text[self._start :]):
            return self._trip(self._start)
        out = self.text[self.shown :]
        self.shown = len(self.text)
        return out
