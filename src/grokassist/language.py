"""Languages: which language a question is written in, and the assistant's own texts in it.

* :func:`detect` names the language of a customer's text (ISO 639-1: ``"id"``,
  ``"es"``...) with ``py3langid`` (langid.py's model, shipped inside the wheel;
  numpy only). Its candidates are :data:`DETECTED`, the languages customers
  write in most, not all 97 it knows: on the example and shared question sets
  (760 questions, English, Indonesian and Spanish) the full set confuses
  Indonesian with Malay, Spanish with Galician and short English questions with
  Latin (12 errors); with the shorter list, 1 error in 1,659 questions (the
  whole stackfaq set included). A text too short to tell
  (fewer than :data:`MIN_LETTERS` letters) or told with a low probability gets
  the caller's ``hint`` (the browser's language, say) or the default.
* :data:`MESSAGES` holds what the assistant says in its own words (the
  abstention and the offer of a human, the withheld-answer notice, the line that
  introduces quoted sources in another language) per language, and
  :func:`message` picks one, in English when a language has none.
* :func:`fusion_weights` says how much the keyword side of hybrid retrieval
  counts for a question: BM25 over English articles finds little in an
  Indonesian or Spanish question (and what it finds, it finds by accident), so a
  question in another language than the articles' is retrieved by meaning.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DETECTED",
    "MESSAGES",
    "MIN_LETTERS",
    "Detection",
    "detect",
    "detection",
    "fusion_weights",
    "language_name",
    "message",
    "same_language",
]

#: The languages :func:`detect` chooses among.
DETECTED: tuple[str, ...] = (
    "en", "es", "id", "pt", "fr", "de", "it", "nl", "pl", "ru", "uk", "tr", "ar", "zh", "ja",
    "ko", "vi", "th", "hi", "sv", "da", "no", "fi", "cs", "ro", "hu", "el", "he", "fa",
)  # fmt: skip

#: Below this many letters a text is too short to tell its language.
MIN_LETTERS = 12
#: Below this probability (normalised over :data:`DETECTED`) the detection is not trusted: the
#: questions of the example and shared sets that it tells right sit at 0.28 and above (a few
#: two-word ones lower), noise such as "ok?", "E-601 error" or "Router Gen 3 LAN 2" at 0.21 and below.
MIN_PROBABILITY = 0.25

_NAMES = {
    "en": "English", "es": "Spanish", "id": "Indonesian", "pt": "Portuguese", "fr": "French",
    "de": "German", "it": "Italian", "nl": "Dutch", "pl": "Polish", "ru": "Russian",
    "uk": "Ukrainian", "tr": "Turkish", "ar": "Arabic", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "vi": "Vietnamese", "th": "Thai", "hi": "Hindi", "sv": "Swedish",
    "da": "Danish", "no": "Norwegian", "fi": "Finnish", "cs": "Czech", "ro": "Romanian",
    "hu": "Hungarian", "el": "Greek", "he": "Hebrew", "fa": "Persian",
}  # fmt: skip

#: The assistant's own texts. ``abstain``: the sources do not answer (with the offer of a
#: human); ``withheld``: the output guard stopped an answer; ``sources``: the line before
#: source sentences quoted in another language than the question's; ``human``: the offer
#: of a human alone.
MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "abstain": "I don't know: our support articles don't cover that. "
        "I can connect you with a human agent who can help.",
        "withheld": "Sorry, I can't share that. I can answer questions about our products and "
        "services, or connect you with a human agent.",
        "sources": "Our support articles say:",
        "human": "I can connect you with a human agent.",
    },
    "id": {
        "abstain": "Maaf, saya tidak tahu: artikel bantuan kami tidak membahas hal itu. "
        "Saya dapat menghubungkan Anda dengan agen manusia yang dapat membantu.",
        "withheld": "Maaf, saya tidak dapat membagikan itu. Saya dapat menjawab pertanyaan tentang "
        "produk dan layanan kami, atau menghubungkan Anda dengan agen manusia.",
        "sources": "Menurut artikel bantuan kami (dalam bahasa Inggris):",
        "human": "Saya dapat menghubungkan Anda dengan agen manusia.",
    },
    "es": {
        "abstain": "No lo sé: nuestros artículos de ayuda no tratan ese tema. "
        "Puedo ponerle en contacto con un agente humano que le ayudará.",
        "withheld": "Lo siento, no puedo compartir eso. Puedo responder preguntas sobre nuestros "
        "productos y servicios, o ponerle en contacto con un agente humano.",
        "sources": "Según nuestros artículos de ayuda (en inglés):",
        "human": "Puedo ponerle en contacto con un agente humano.",
    },
    "pt": {
        "abstain": "Não sei: os nossos artigos de ajuda não tratam desse assunto. "
        "Posso pô-lo em contacto com um agente humano que o pode ajudar.",
        "withheld": "Desculpe, não posso partilhar isso. Posso responder a perguntas sobre os nossos "
        "produtos e serviços, ou pô-lo em contacto com um agente humano.",
        "sources": "Segundo os nossos artigos de ajuda (em inglês):",
        "human": "Posso pô-lo em contacto com um agente humano.",
    },
    "fr": {
        "abstain": "Je ne sais pas : nos articles d'aide ne traitent pas de ce sujet. "
        "Je peux vous mettre en relation avec un conseiller qui pourra vous aider.",
        "withheld": "Désolé, je ne peux pas partager cela. Je peux répondre à vos questions sur nos "
        "produits et services, ou vous mettre en relation avec un conseiller.",
        "sources": "D'après nos articles d'aide (en anglais) :",
        "human": "Je peux vous mettre en relation avec un conseiller.",
    },
    "de": {
        "abstain": "Das weiß ich nicht: Unsere Hilfeartikel behandeln das nicht. "
        "Ich kann Sie mit einem Mitarbeiter verbinden, der Ihnen weiterhilft.",
        "withheld": "Das kann ich leider nicht weitergeben. Ich beantworte gern Fragen zu unseren "
        "Produkten und Diensten oder verbinde Sie mit einem Mitarbeiter.",
        "sources": "Unsere Hilfeartikel (auf Englisch) sagen:",
        "human": "Ich kann Sie mit einem Mitarbeiter verbinden.",
    },
}

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
#: what says nothing about a language: links, citation markers, codes with digits
_NOISE = re.compile(r"https?://\S+|www\.\S+|\[\d{1,2}\]|\b\w*\d\w*\b")


@dataclass(frozen=True)
class Detection:
    """The language of a text, how sure the detector is, and whether that is enough."""

    language: str
    probability: float
    reliable: bool


_identifier: Any = None
_load_lock = threading.Lock()
_classify_lock = threading.Lock()


def _model() -> Any:
    global _identifier
    if _identifier is None:
        with _load_lock:
            if _identifier is None:
                from .retrieval._deps import need

                need("py3langid", "py3langid", "language detection")
                from py3langid.langid import _load_identifier

                identifier = _load_identifier(norm_probs=True)
                identifier.set_languages(list(DETECTED))
                _identifier = identifier
    return _identifier


def detection(text: str) -> Detection:
    """The most likely language of ``text`` among :data:`DETECTED` (see the module docstring)."""
    plain = _NOISE.sub(" ", text)
    letters = len(_LETTERS.findall(plain))
    if letters == 0:
        return Detection("en", 0.0, False)
    model = _model()
    with _classify_lock:  # the identifier keeps per-call state
        language, probability = model.classify(plain)
    probability = float(probability)
    return Detection(str(language), probability, letters >= MIN_LETTERS and probability >= MIN_PROBABILITY)


def detect(text: str, *, hint: str | None = None, default: str = "en") -> str:
    """The language of ``text``; ``hint`` (then ``default``) when the text is too short or unclear."""
    found = detection(text)
    if found.reliable:
        return found.language
    fallback = (hint or "").split("-")[0].split("_")[0].lower()
    return fallback if fallback else default


def language_name(code: str) -> str:
    """The English name of a language ("id" -> "Indonesian"), the code itself when unknown."""
    return _NAMES.get(code.split("-")[0].lower(), code)


def same_language(a: str | None, b: str | None) -> bool:
    """Whether two language codes name the same language ("en" and "en-GB" do); unknown matches all."""
    if not a or not b:
        return True
    return a.split("-")[0].lower() == b.split("-")[0].lower()


def message(key: str, language: str | None) -> str:
    """The assistant's text ``key`` in ``language`` (English when that language has none)."""
    table = MESSAGES.get((language or "en").split("-")[0].lower()) or MESSAGES["en"]
    return table.get(key) or MESSAGES["en"][key]


#: Weights (dense, lexical) of hybrid retrieval for a question in another language than
#: the documents'. Measured on the Starlink and Optimus questions in Indonesian and Spanish
#: (docs/languages.md): with equal weights BM25 drags accidental matches up (recall@1 0.56
#: and 0.59 with e5); at a quarter it still breaks the dense side's ties on names and codes
#: that both languages write alike ("Gen 3", "E-601"): recall@1 0.65 and 0.69.
CROSS_LANGUAGE_WEIGHTS = (1.0, 0.25)


def fusion_weights(
    question_language: str | None, documents_language: str | None
) -> tuple[float, float] | None:
    """Hybrid-retrieval weights for a question (``None``: the retriever's own)."""
    if same_language(question_language, documents_language):
        return None
    return CROSS_LANGUAGE_WEIGHTS
