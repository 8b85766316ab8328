"""The Spanish language folder (issue 19): the checks of ``test_language_fr.py`` (written once there) run for ``es``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_language_fr as checks

CODE = "es"


def test_loads() -> None:
    lang = checks.language(CODE)
    assert lang.code == CODE and lang.hass is not None
    assert lang.sequence.split("enciende la luz, luego apaga la tele") == ["enciende la luz", "apaga la tele"]
    assert lang.sequence.split("cierra las persianas y después enciende la luz") == ["cierra las persianas", "enciende la luz"]


def test_keys_and_placeholders_match_english() -> None:
    assert checks.structure_problems(CODE) == []


@pytest.fixture(scope="module")
def read() -> tuple[int, int, list[str]]:
    return checks.readback(CODE)


def test_every_template_is_read_back_as_its_intent(read: tuple[int, int, list[str]]) -> None:
    templates, sampled, failures = read
    print(f"{CODE}: {templates} templates, {sampled} samples read back, {len(failures)} failures")
    english_templates = sum(len(block["sentences"]) for intent in checks.english().sentences["intents"].values() for block in intent["data"])
    assert templates >= 0.9 * english_templates and sampled >= 3 * templates
    assert failures == []


def test_replies_are_plain_text() -> None:
    assert checks.reply_problems(CODE) == []


def test_no_english_words() -> None:
    assert checks.english_words(CODE) == []
