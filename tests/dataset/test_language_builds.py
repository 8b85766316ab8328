"""Every example home builds in every shipped language, and its rows speak only that language.

A build raises ``InvalidTraining`` when the plan's ratios or coverage rules are not met,
so a build that returns is one the plan accepts; the test checks the ratios it reports
as well. "No English" is measured against English's own folder: a word English's templates
or replies say, which the language's folder, Home Assistant's sentences and responses for
that language, and the home's names never say, is English in a row of another language.
"""

from __future__ import annotations

import json
import random
import re
import sys
from functools import cache
from itertools import islice, product
from pathlib import Path
from typing import Any

import pytest
from statewise_protocol import load_export

from dataset_export.language import buildable_languages, load_language
from dataset_export.pipeline import build_dataset
from dataset_export.variants import make_variant

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_language_fr import strings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "manifest.json").is_file())
CODES = [code for code in buildable_languages() if code != "en"]
SIZE = 120  # small: the ratios and coverage rules hold at every size (tests/dataset/test_build.py); the full size is a bench's job


def _words(text: str) -> set[str]:
    """Words of three letters or more: an English sentence or reply always has some, and two-letter pieces of a
    template's optional parts ("y a[-][ ]t[-][']il" sampled as "y at-'il") are not words of any language."""
    return {w for w in re.split(r"[^\w]+", text.casefold()) if len(w) > 2 and not w.isdigit()}


def _home_assistant_said(data: dict[str, Any]) -> list[str]:
    """What Home Assistant's data for a language says: sentences, rules, list words ("in", not the "out" ids), skip words, responses."""
    said = [s for intent in data.get("intents", {}).values() for block in intent.get("data", []) for s in block.get("sentences", [])]
    said += list(data.get("expansion_rules", {}).values()) + list(data.get("skip_words", []))
    for spec in data.get("lists", {}).values():
        said += [v["in"] if isinstance(v, dict) else v for v in spec.get("values", []) if isinstance(v, (str, dict))]
    return [*said, *strings(data.get("responses", {}))]


def _said(text: str) -> str:
    """A text without its slot names, rule names and template code (``{name}``, ``<the>``, ``{% if %}`` are not said)."""
    text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " ", text, flags=re.S)  # a response's Jinja code is not said
    text = re.sub(r"<[^>]*>|\{[^}]*\}", " ", text)
    return " ".join([text, *_glued(text)])


GLUED = re.compile(r"[\w']*(?:(?:\([^()\[\]\s]*\)|\[[^()\[\]\s]*\])[\w']*)+")


def _glued(text: str) -> list[str]:
    """The words a template spells with a group inside a word: "paus(a|ar|e)" says "pausa", "pausar" and "pause"; "item[s]" "items"."""
    out: list[str] = []
    for match in GLUED.finditer(text):
        options = [[part[1:-1], ""] if part.startswith("[") else part[1:-1].split("|") if part.startswith("(") else [part]
                   for part in re.split(r"(\([^()]*\)|\[[^\[\]]*\])", match.group(0)) if part]
        out += ["".join(combo) for combo in islice(product(*options), 64)]
    return out


@cache
def vocabulary(code: str) -> frozenset[str]:
    """Every word the language's folder and Home Assistant's data for it say (as the builder loads them)."""
    lang = load_language(code)
    said = [*_home_assistant_said(lang.sentences), *strings(lang.words), *strings(lang.phrases), *_home_assistant_said(lang.hass or {})]
    return frozenset(w for text in said for w in _words(_said(str(text))))


@cache
def english_only(code: str) -> frozenset[str]:
    """Words English's templates and replies say that the other language never does."""
    english = load_language("en")
    return frozenset({w for text in [*_home_assistant_said(english.sentences), *strings(english.phrases)] for w in _words(_said(str(text)))}
                     - vocabulary(code))


def home_words(export_dir: Path) -> set[str]:
    words: set[str] = set()
    for e in load_export(export_dir).ontology.entities.values():
        for text in [e["name"], *e.get("aliases", []), e.get("area") or "", e.get("floor") or "", *(e.get("area_aliases") or [])]:
            words |= _words(text)
    return words


def english_in(rows: list[dict[str, Any]], code: str, home: set[str]) -> dict[str, str]:
    """English words said in commands and text answers (word -> the first text that says it)."""
    strays: dict[str, str] = {}
    for row in rows:
        said = [row["messages"][1]["content"]] + ([row["messages"][2]["content"]] if row["output_class"] == "text" else [])
        for text in said:
            for word in sorted(_words(text) & english_only(code) - home):
                strays.setdefault(word, text)
    return strays


def test_english_words_are_caught() -> None:
    """The check can fail: an English command and an English reply in a German row are found."""
    rows = [{"messages": [{}, {"content": "schalte die Stehlampe ein"}, {"content": "Stehlampe eingeschaltet"}], "output_class": "text"},
            {"messages": [{}, {"content": "turn off the Stehlampe"}, {"content": "I can't find anything called Hall"}], "output_class": "text"}]
    strays = english_in(rows, "de", {"stehlampe"})
    assert {"turn", "off", "find", "anything", "called"} <= set(strays) and "stehlampe" not in strays
    assert not english_in(rows[:1], "de", {"stehlampe"})


def _variant_words(words: dict[str, Any]) -> set[str]:
    said = [words["variant_added"], *words["variant_devices"].values(), *words["variant_renames"], *words["variant_aliases"]]
    return {w for text in said for w in _words(_said(text))}


@pytest.mark.parametrize("code", CODES)
def test_the_builders_own_devices_and_names_are_in_the_household_language(code: str) -> None:
    """The devices a variant adds, its new names and aliases come from the language's words, never English's."""
    words = load_language(code).words
    english = _variant_words(load_language("en").words) - vocabulary(code)
    assert english, "English's variant words are all words of the language too: the test could not fail"
    ontology = load_export(EXAMPLES / "demo_home").ontology
    said: set[str] = set()
    for seed in range(30):
        for change in ("added", "renamed", "aliased"):
            variant = make_variant(ontology, change, random.Random(seed), words)
            if variant is not None:
                entity = variant.ontology.entities[variant.entity_id]
                said |= {w for text in (entity["name"], *entity["aliases"]) for w in _words(text)}
    new = said - home_words(EXAMPLES / "demo_home")
    assert new and not new & english, sorted(new & english)


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("home", HOMES)
def test_every_example_home_builds_and_speaks_only_its_language(home: str, code: str, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    stats = build_dataset(EXAMPLES / home, out, size=SIZE, language=code)
    assert stats["language"] == code and stats["train"]["examples"] == SIZE
    assert all(low <= c["share"] <= high for c in stats["train"]["classes"].values() for low, high in [c["band"]])
    rows = [json.loads(line) for name in ("train.jsonl", "heldout.jsonl") for line in (out / name).read_text(encoding="utf-8").splitlines()]
    assert all(json.loads(r["intent"]).get("language") == code for r in rows)
    strays = english_in(rows, code, home_words(EXAMPLES / home))
    assert not strays, strays
