from __future__ import annotations

import json
from pathlib import Path

import pytest

from grokassist.language import (
    CROSS_LANGUAGE_WEIGHTS,
    MESSAGES,
    detect,
    detection,
    fusion_weights,
    language_name,
    message,
    same_language,
)

EVAL = Path(__file__).resolve().parents[1] / "examples" / "eval"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Piringan saya terhalang, apa yang harus saya lakukan?", "id"),
        ("Berapa lama pengembalian dana diproses?", "id"),
        ("¿Cuánto tarda el reembolso?", "es"),
        ("la opción de pausa no aparece para nada en mi app", "es"),
        ("How long do refunds take?", "en"),
        ("Is Optimus sold in Australia?", "en"),  # Latin with every language of the model
        ("Bisakah saya menyewa Optimus daripada membelinya langsung?", "id"),  # Malay with every language
    ],
)
def test_detects_the_language_of_customer_questions(text: str, language: str) -> None:
    assert detect(text) == language


def test_every_example_question_is_detected() -> None:
    """All questions of the example sets, in three languages: the detector must not miss one."""
    wrong = []
    total = 0
    for file in EVAL.glob("*/queries.jsonl"):
        if file.parent.name == "injections":
            continue
        for line in file.read_text("utf-8").splitlines():
            q = json.loads(line)
            total += 1
            if detect(q["question"]) != (q.get("language") or "en"):
                wrong.append(q["id"])
    assert total >= 400 and not wrong


def test_short_or_unclear_text_takes_the_hint() -> None:
    assert not detection("ok?").reliable
    assert detect("ok?", hint="es-MX") == "es"
    assert detect("E-601", hint="id") == "id"
    assert detect("???") == "en"
    assert detect("refund?", default="de") == "de"
    assert detect("Gracias, ¿y cuánto tarda el envío a Madrid?", hint="en") == "es"  # a clear text wins


def test_messages_in_each_language() -> None:
    assert set(MESSAGES) >= {"en", "id", "es"}
    for table in MESSAGES.values():
        assert set(table) == set(MESSAGES["en"])
    assert message("abstain", "id").startswith("Maaf")
    assert message("abstain", "es-AR") == MESSAGES["es"]["abstain"]
    assert message("abstain", "xx") == MESSAGES["en"]["abstain"]
    assert message("abstain", None) == MESSAGES["en"]["abstain"]
    for language, table in MESSAGES.items():
        if language != "en":
            assert detect(table["abstain"]) == language  # the text is in the language it claims


def test_names_and_weights() -> None:
    assert language_name("id") == "Indonesian" and language_name("es-ES") == "Spanish"
    assert language_name("xx") == "xx"
    assert same_language("en", "en-GB") and not same_language("id", "en") and same_language(None, "id")
    assert fusion_weights("en", "en") is None
    assert fusion_weights("id", "en") == CROSS_LANGUAGE_WEIGHTS
