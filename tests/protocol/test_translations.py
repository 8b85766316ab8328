"""Every translation of the integration says what en.json says: the same keys, the same placeholders (issue 19).

Home Assistant fills a missing key with English and fails a reply whose placeholder it cannot fill, so a
translation with a key less, a key more or a renamed ``{name}`` would speak English or break mid-sentence.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Formatter
from typing import Any

import pytest
from statewise_protocol.agent import translated_phrases
from statewise_protocol.language import available_languages

TRANSLATIONS = Path(__file__).resolve().parents[2] / "custom_components" / "statewise" / "translations"
LANGUAGES = sorted(p.stem for p in TRANSLATIONS.glob("*.json") if p.stem != "en")


def flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in doc.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(text) if field is not None}


def read(language: str) -> dict[str, str]:
    return flatten(json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")))


def test_the_agent_languages_have_translations() -> None:
    """Each language the agent has words for speaks its replies in that language, and the option's labels name them all."""
    assert {"de", "es", "fr", "nl"} <= set(LANGUAGES)
    for language in available_languages():
        assert (TRANSLATIONS / f"{language}.json").is_file(), language
        labels = {k.rsplit(".", 1)[1] for k in read(language) if k.startswith("selector.languages.options.")}
        assert labels == set(available_languages()), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_keys_and_placeholders_as_english(language: str) -> None:
    english, other = read("en"), read(language)
    assert sorted(set(english) - set(other)) == [] and sorted(set(other) - set(english)) == []
    for key, text in english.items():
        assert isinstance(other[key], str) and other[key].strip(), (language, key)
        assert placeholders(other[key]) == placeholders(text), (language, key, other[key])


@pytest.mark.parametrize("language", LANGUAGES)
def test_replies_are_translated_not_copied(language: str) -> None:
    """The spoken replies differ from the English ones (names and numbers aside) and format with their placeholders."""
    english, replies = translated_phrases("en"), translated_phrases(language)
    assert replies.keys() == english.keys()
    same = [k for k in replies if replies[k] == english[k]]
    assert same == [], (language, same)
    for key, text in replies.items():
        assert text.format(name="N", value="V"), (language, key)
