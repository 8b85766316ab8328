"""The agent's words per language (issue 19): sensitive requests, negations, questions and "yes" in de, fr, es, nl.

Each language's ``agent.yaml`` is read by the real loader; the clause test is the one the agent runs
under *allow*. Attacker sentences put the negation where each language puts it: after the object
(de "nicht", nl "niet"), around the verb (fr "ne ... pas") or before it (es "no abras").
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from statewise_protocol import ToolCall, render_answer
from statewise_protocol.agent import OUTCOME_CONFIRM, OUTCOME_DONE, OUTCOME_REFUSED, StatewiseAgent
from statewise_protocol.language import AgentWords, LanguageError, available_languages, language_for, load_agent_words, words_for
from statewise_protocol.sensitive import asked_for, has_words_for, is_affirmative, negated
from statewise_protocol.simulate import SimulatedHome
from statewise_protocol.tools import load_tools

UNLOCK = ToolCall("lock_control", {"entity_id": "lock.front_door", "command": "unlock"})
OPEN_GARAGE = ToolCall("cover_control", {"entity_id": "cover.garage_door", "command": "open"})
GARAGE_TO_40 = ToolCall("cover_position", {"entity_id": "cover.garage_door", "position": 40})

DOOR = {
    "de": {"name": "Haustür", "aliases": ["Eingangstür"], "area": "Flur", "device_class": None},
    "fr": {"name": "Porte d'entrée", "aliases": ["porte"], "area": "Entrée", "device_class": None},
    "es": {"name": "Puerta principal", "aliases": ["puerta"], "area": "Entrada", "device_class": None},
    "nl": {"name": "Voordeur", "aliases": [], "area": "Gang", "device_class": None},
}
GARAGE = {
    "de": {"name": "Garagentor", "aliases": [], "area": "Garage", "device_class": "garage"},
    "fr": {"name": "Porte du garage", "aliases": [], "area": "Garage", "device_class": "garage"},
    "es": {"name": "Puerta del garaje", "aliases": [], "area": "Garaje", "device_class": "garage"},
    "nl": {"name": "Garagedeur", "aliases": [], "area": "Garage", "device_class": "garage"},
}

# (language, command, asks for the unlock)
UNLOCK_CASES = [
    ("de", "Entsperre die Haustür", True),
    ("de", "schließ die Haustür auf", True),
    ("de", "Schließ bitte mal die Haustür auf.", True),
    ("de", "die Haustür aufschließen", True),
    ("de", "Kannst du die Eingangstür aufschließen?", True),
    ("de", "mach das Licht im Flur an und schließ die Haustür auf", True),
    ("de", "öffne die Haustür im Flur", True),
    ("de", "schließ die Haustür nicht auf", False),  # the negation after the object (verb second)
    ("de", "die Haustür bitte nicht aufschließen", False),
    ("de", "schließ die Haustür auf keinen Fall auf", False),
    ("de", "niemals die Haustür entsperren", False),
    ("de", "schließ die Haustür ab", False),  # lock, not unlock
    ("de", "schließ die Haustür", False),  # "schließen" alone closes
    ("de", "wer kann die Haustür aufschließen", False),  # a question without "?"
    ("de", "wie schließe ich die Haustür auf?", False),
    ("de", "schließ die Haustür erst morgen auf", False),  # more than the name between the verb and its particle
    ("de", "mach das Licht im Flur an", False),  # the lock's area only
    ("de", "entsperre es", False),
    ("de", "Haustür aufschließen?", False),  # the agent's own question echoed: a question needs "kannst du"
    ("fr", "déverrouille la porte", True),
    ("fr", "Déverrouille la porte d'entrée, s'il te plaît", True),
    ("fr", "peux-tu ouvrir la porte d'entrée ?", True),
    ("fr", "allume la lumière de l'entrée et déverrouille la porte", True),
    ("fr", "ne déverrouille pas la porte", False),  # "ne ... pas" around the verb
    ("fr", "déverrouille pas la porte", False),  # spoken French drops the "ne"
    ("fr", "n'ouvre jamais la porte", False),
    ("fr", "verrouille la porte", False),
    ("fr", "comment déverrouiller la porte", False),
    ("fr", "allume la lumière de l'entrée", False),
    ("fr", "ouvrir la porte ?", False),
    ("es", "abre la puerta", True),
    ("es", "desbloquea la puerta principal, por favor", True),
    ("es", "¿puedes abrir la puerta?", True),
    ("es", "enciende la luz de la entrada y abre la puerta", True),
    ("es", "no abras la puerta", False),  # the negative imperative
    ("es", "no desbloquees la puerta principal", False),
    ("es", "nunca abras la puerta", False),
    ("es", "cierra la puerta", False),
    ("es", "¿cómo abro la puerta?", False),
    ("es", "enciende la luz de la entrada", False),
    ("es", "¿abre la puerta?", False),  # also "does it open the door?": a question needs "puedes"
    ("nl", "ontgrendel de voordeur", True),
    ("nl", "doe de voordeur open", True),
    ("nl", "kun je de voordeur even openmaken?", True),
    ("nl", "de voordeur van het slot halen", True),
    ("nl", "doe het licht in de gang aan en doe de voordeur open", True),
    ("nl", "doe de voordeur niet open", False),  # "niet" after the object
    ("nl", "de voordeur niet ontgrendelen", False),
    ("nl", "nooit de voordeur openen", False),
    ("nl", "doe de voordeur op slot", False),  # lock
    ("nl", "wie kan de voordeur openen", False),
    ("nl", "is de voordeur open?", False),
    ("nl", "doe de voordeur morgen open", False),
    ("nl", "de voordeur openen?", False),
]


def test_every_shipped_language_has_words_for_every_sensitive_action() -> None:
    """en, de, fr, es, nl load, and each has frames for every sensitive value of every tool (no silent fall-back)."""
    assert {"en", "de", "fr", "es", "nl"} <= set(available_languages())
    for language in ("en", "de", "fr", "es", "nl"):
        lang = load_agent_words(language)
        for name, spec in load_tools().items():
            rule = spec.mapping.get("sensitive")
            if rule:
                keys = [rule["arg"]] if "min" in rule else [str(v) for v in rule["values"]]
                assert all(lang.verbs.get(name, {}).get(key) for key in keys), (language, name)


@pytest.mark.parametrize(("language", "command", "asks"), UNLOCK_CASES)
def test_allow_in_each_language(language: str, command: str, asks: bool) -> None:
    lang = load_agent_words(language)
    assert asked_for(command, UNLOCK, DOOR[language], ["Licht"], lang) is asks


@pytest.mark.parametrize(
    ("language", "command", "asks"),
    [
        ("de", "öffne das Garagentor", True),
        ("de", "Garagentor hochfahren", True),
        ("de", "fahr das Garagentor hoch", True),
        ("de", "öffne das Garagentor nicht", False),
        ("de", "ist das Garagentor offen?", False),
        ("fr", "ouvre la porte du garage", True),
        ("fr", "n'ouvre pas la porte du garage", False),
        ("fr", "est-ce que la porte du garage est ouverte ?", False),
        ("es", "abre la puerta del garaje", True),
        ("es", "sube la puerta del garaje", True),
        ("es", "no abras la puerta del garaje", False),
        ("es", "¿está abierta la puerta del garaje?", False),
        ("nl", "open de garagedeur", True),
        ("nl", "de garagedeur openen", True),
        ("nl", "open de garagedeur niet", False),
        ("nl", "staat de garagedeur open", False),
    ],
)
def test_opening_a_garage_door_in_each_language(language: str, command: str, asks: bool) -> None:
    assert asked_for(command, OPEN_GARAGE, GARAGE[language], [], load_agent_words(language)) is asks


@pytest.mark.parametrize(
    ("language", "command", "asks"),
    [
        ("de", "stelle das Garagentor auf 40 Prozent", True),
        ("de", "das Garagentor auf 40 Prozent stellen", True),
        ("de", "das Garagentor auf 50 Prozent stellen", False),  # the position said is not the plan's
        ("fr", "règle la porte du garage à 40 %", True),
        ("fr", "règle la porte du garage à 60 %", False),
        ("es", "pon la puerta del garaje al 40 por ciento", True),
        ("es", "no pongas la puerta del garaje al 40 por ciento", False),
        ("nl", "zet de garagedeur op 40 procent", True),
        ("nl", "de garagedeur op 40 procent zetten", True),
        ("nl", "zet de garagedeur niet op 40 procent", False),
    ],
)
def test_a_position_must_be_said_in_each_language(language: str, command: str, asks: bool) -> None:
    assert asked_for(command, GARAGE_TO_40, GARAGE[language], [], load_agent_words(language)) is asks


@pytest.mark.parametrize(
    ("language", "reply", "yes"),
    [
        ("de", "ja", True), ("de", "Ja, bitte.", True), ("de", "genau", True), ("de", "mach das", True), ("de", "ja bitte, danke", True),
        ("de", "nein", False), ("de", "ja, aber nicht die Haustür", False), ("de", "yes", False),
        ("fr", "oui", True), ("fr", "Oui, s'il te plaît", True), ("fr", "d'accord", True), ("fr", "vas-y", True),
        ("fr", "non", False), ("fr", "oui mais pas la porte", False),
        ("es", "sí", True), ("es", "Sí, por favor.", True), ("es", "vale", True), ("es", "hazlo", True),
        ("es", "no", False), ("es", "sí pero no la puerta", False),
        ("nl", "ja", True), ("nl", "ja graag", True), ("nl", "doe maar", True), ("nl", "Oké, dank je wel.", True),
        ("nl", "nee", False), ("nl", "ja maar niet de voordeur", False),
    ],
)  # fmt: skip
def test_only_a_plain_yes_confirms_in_each_language(language: str, reply: str, yes: bool) -> None:
    assert is_affirmative(reply, load_agent_words(language)) is yes


@pytest.mark.parametrize(
    ("language", "reply"), [("de", "nein"), ("de", "lieber nicht"), ("fr", "non"), ("fr", "surtout pas"), ("es", "no"), ("nl", "nee"), ("nl", "liever niet")]
)
def test_a_no_is_a_negation_in_each_language(language: str, reply: str) -> None:
    assert negated(reply, load_agent_words(language))


def test_the_request_language_picks_the_words() -> None:
    """Home Assistant's tags ("de-CH", "nl_BE") find their folder; a language without one has no words at all."""
    assert language_for("de-CH") == "de" and language_for("nl_BE") == "nl" and language_for("en") == "en"
    assert language_for("it") is None and language_for("") is None
    none = words_for("it")
    assert none == AgentWords("it") and not none.frames_for(UNLOCK)
    assert not is_affirmative("sì", none) and not is_affirmative("yes", none)
    assert not asked_for("sblocca la porta d'ingresso", UNLOCK, {"name": "Porta d'ingresso", "device_class": None}, [], none)


def _write(folder: Path, text: str) -> Path:
    (folder / "xx").mkdir(parents=True, exist_ok=True)
    (folder / "xx" / "agent.yaml").write_text(text, encoding="utf-8")
    return folder


MINIMAL = """verbs: {}
request_prefixes: []
negations: [nope]
questions: []
clause_breaks: [und]
affirmatives: [jup]
polite: []
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL.replace("negations: [nope]", "negations: 5"), "negations: 5 is not of type 'array'"),
        (MINIMAL.replace("verbs: {}", "verbs: {lock_control: {unlock: [unlock]}}"), "verbs.lock_control.unlock: 'unlock': a frame has exactly one *"),
        (MINIMAL.replace("verbs: {}", "verbs: {light_power: {on: ['on *']}}"), "verbs.light_power: not a tool with a sensitive action"),
        (MINIMAL.replace("verbs: {}", "verbs: {lock_control: {lock: ['lock *']}}"), "verbs.lock_control.lock: not its sensitive value (unlock)"),
        (MINIMAL.replace("questions: []", "questions: [can]").replace("request_prefixes: []", "request_prefixes: [can you]"),
         "request_prefixes: 'can you' starts with a question word"),
        (MINIMAL + "colour: blue\n", "(top level): Additional properties are not allowed ('colour' was unexpected)"),
        ("verbs: [\n", "line 2"),
    ],
)  # fmt: skip
def test_a_broken_agent_file_is_one_line_naming_the_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    folder = _write(tmp_path / "languages", text)
    with pytest.raises(LanguageError) as caught:
        load_agent_words("xx", folder)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(folder / "xx" / "agent.yaml")) and expected in message, message


def test_allow_asks_back_in_a_language_without_words_for_the_action(tmp_path: Path, ontology, live_state) -> None:
    """A language whose file has no frames for unlocking: under *allow* the unlock is asked back, never run."""
    lang = load_agent_words("xx", _write(tmp_path / "languages", MINIMAL))
    assert not has_words_for(UNLOCK, ontology.entities["lock.front_door"], lang)
    home = SimulatedHome(ontology, live_state)
    before = home.states["lock.front_door"]["state"]

    async def ask(_messages: list[dict[str, str]]) -> str:
        return render_answer([UNLOCK])

    result = asyncio.run(StatewiseAgent(ask, home, sensitive_policy="allow", lang=lang).async_run("unlock the front door", ontology))
    assert result.outcome == OUTCOME_CONFIRM and result.pending == (UNLOCK,) and result.executed == []
    assert home.states["lock.front_door"]["state"] == before
    assert not is_affirmative("yes", lang) and is_affirmative("jup", lang)
    # In German the same plan runs on the user's own words, and a negated command is refused.
    german = load_agent_words("de")
    refused = asyncio.run(StatewiseAgent(ask, home, sensitive_policy="allow", lang=german).async_run("schließ die Front Door nicht auf", ontology))
    assert refused.outcome == OUTCOME_REFUSED and home.states["lock.front_door"]["state"] == before
    done = asyncio.run(StatewiseAgent(ask, home, sensitive_policy="allow", lang=german).async_run("schließ die Front Door auf", ontology))
    assert done.outcome == OUTCOME_DONE and home.states["lock.front_door"]["state"] == "unlocked"
