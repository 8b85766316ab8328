"""How people say a command around its template: polite words, numbers as words, speech-to-text text.

Applied to a filled template before the sentence is read by the recogniser (so
the label follows the words): polite prefixes and suffixes are Home Assistant's own
skip words; numbers may be spoken as words ("fifty percent", read back by hassil);
speech-to-text output is lower case without punctuation.
"""

from __future__ import annotations

import random
import re
from functools import cache

from .language import Language

# The polite words are the language's ``polite_prefixes`` / ``polite_suffixes`` (words.yaml).
POLITE_SHARE = 0.2
STT_SHARE = 0.25
WORDS_SHARE = 0.2  # of sentences that carry a whole number


@cache
def _engine(code: str):
    from unicode_rbnf import RbnfEngine

    return RbnfEngine.for_language(code)


def number_words(value: int, lang: Language) -> str:
    """``45`` -> ``forty-five`` in ``lang`` (hassil reads these back)."""
    return _engine(lang.number_language).format_number(value).text


def say_number(value: object, rng: random.Random, lang: Language) -> str:
    """A number as a person says it: digits, or for whole numbers sometimes words."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1000 and rng.random() < WORDS_SHARE:
        return number_words(value, lang)
    return str(value)


def speech_to_text(text: str) -> str:
    """What a speech-to-text engine writes: lower case, no punctuation (apostrophes and decimal points kept: "40.5 degrees")."""
    return " ".join(re.sub(r"(?!(?<=\d)\.(?=\d))[^\w\s'%-]", " ", text.lower()).split())


def variations(text: str, rng: random.Random, lang: Language) -> str:
    """``text`` as one more person might say it in ``lang`` (sometimes unchanged)."""
    if rng.random() < POLITE_SHARE:
        prefixes, suffixes = lang.words["polite_prefixes"], lang.words["polite_suffixes"]
        text = rng.choice(prefixes) + text[0].lower() + text[1:] if rng.random() < 0.6 else text + rng.choice(suffixes)
    if rng.random() < STT_SHARE:
        text = speech_to_text(text)
    return text
