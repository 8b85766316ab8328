"""Every language Home Assistant speaks, on the agent side (issue 19): a German household's agent.

Real Home Assistant core on the demo home with the scripted model server: the agent's languages
option becomes ``supported_languages``, replies come from ``translations/de.json`` in the
request's language, the confirm dialogue asks back and hears "ja" in German, and under *allow*
German attacker sentences (the negation after the object) never unlock.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.components import conversation
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigSubentry
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry

from custom_components.statewise.const import CONF_LANGUAGES, CONF_MODEL, CONF_SENSITIVE_POLICY, DOMAIN, SUBENTRY_CONVERSATION
from custom_components.statewise.protocol import language
from custom_components.statewise.protocol.agent import translated_phrases
from custom_components.statewise.protocol.language import available_languages

from .conftest import conversation_subentry_data, user_aliases
from .model_server import ModelServer
from .test_conversation import agent_id, call, process as post

UNLOCK = call("lock_control", entity_id="lock.front_door", command="unlock")
KITCHEN_ON = call("light_power", entity_id="light.kitchen_lights", state="on")


def german(key: str, **placeholders: str) -> str:
    """The German reply for a phrase key (translations/de.json)."""
    return translated_phrases("de")[key].format(**placeholders)


def agent(policy: str = "block", languages: list[str] | None = None) -> dict[str, Any]:
    data = conversation_subentry_data(**{CONF_SENSITIVE_POLICY: policy})
    if languages is not None:
        data[CONF_LANGUAGES] = languages
    return data


@pytest.fixture(autouse=True)
def instant_lock() -> Any:
    with patch("homeassistant.components.demo.lock.LOCK_UNLOCK_DELAY", 0):
        yield


process = partial(post, language="de")  # POST /api/conversation/process as a German Assist pipeline does


def speech(answer: dict[str, Any]) -> str:
    return answer["response"]["speech"]["plain"]["speech"]


@pytest.mark.parametrize("subentry_data", [agent(languages=["de"])])
async def test_a_german_agent_answers_in_german(
    hass: HomeAssistant, init_integration: MockConfigEntry, model_server: ModelServer, hass_client: Any, service_calls: list[Any]
) -> None:
    """The command goes to the model as said; the confirmation is translations/de.json's, not English."""
    model_server.script(KITCHEN_ON)
    client = await hass_client()
    answer = await process(client, hass, init_integration, "Mach das Licht in der Küche an")
    assert speech(answer) == german("done_turned_on", name="Kitchen Lights") == "Kitchen Lights eingeschaltet."
    assert answer["response"]["response_type"] == "action_done" and answer["response"]["language"] == "de"
    assert hass.states.get("light.kitchen_lights").state == "on"
    assert model_server.chat_requests[0].json["messages"][1] == {"role": "user", "content": "Mach das Licht in der Küche an"}
    # a regional tag ("de-CH") speaks the German file too
    model_server.script(call("light_power", entity_id="light.kitchen_lights", state="off"))
    answer = await process(client, hass, init_integration, "Mach das Licht in der Küche aus", language="de-CH")
    assert speech(answer) == "Kitchen Lights ausgeschaltet."


@pytest.mark.parametrize("subentry_data", [agent(languages=["de"])])
async def test_invalid_model_output_is_refused_in_german(
    hass: HomeAssistant, init_integration: MockConfigEntry, model_server: ModelServer, hass_client: Any, service_calls: list[Any]
) -> None:
    model_server.script('{"tool_call":{"name":"light_power","arguments":{"entity_id":"light.sauna","state":"on"}}}', "{not json")
    client = await hass_client()
    unknown = await process(client, hass, init_integration, "Mach die Sauna an")
    assert speech(unknown) == german("unknown_entity") == "Ich kann dieses Gerät leider nicht finden. Es wurde nichts geändert."
    broken = await process(client, hass, init_integration, "Mach das Licht an")
    assert speech(broken) == german("invalid_output")
    assert broken["response"]["response_type"] == "error" and service_calls == []


@pytest.mark.parametrize("subentry_data", [agent("confirm", ["de"])])
async def test_confirm_asks_back_in_german_and_ja_runs_the_plan(
    hass: HomeAssistant, init_integration: MockConfigEntry, model_server: ModelServer, hass_client: Any, service_calls: list[Any]
) -> None:
    """"Front Door aufschließen?" -> "Ja, bitte." runs exactly that plan; "nein" cancels in German; English "yes" is no German yes."""
    client = await hass_client()
    model_server.script(UNLOCK, UNLOCK, UNLOCK, "Wozu ja?")
    asked = await process(client, hass, init_integration, "Schließ die Haustür auf")
    assert speech(asked) == german("ask_unlocked", name="Front Door") == "Front Door aufschließen?"
    assert asked["continue_conversation"] is True and hass.states.get("lock.front_door").state == "locked"
    done = await process(client, hass, init_integration, "Ja, bitte.", asked["conversation_id"])
    assert speech(done) == german("done_unlocked", name="Front Door")
    assert hass.states.get("lock.front_door").state == "unlocked" and len(model_server.chat_requests) == 1

    await hass.services.async_call("lock", "lock", {"entity_id": "lock.front_door"}, blocking=True)
    service_calls.clear()
    asked = await process(client, hass, init_integration, "Schließ die Haustür auf")
    cancelled = await process(client, hass, init_integration, "nein", asked["conversation_id"])
    assert speech(cancelled) == german("confirm_cancelled") == "Okay, ich habe das abgebrochen. Es wurde nichts geändert."
    asked = await process(client, hass, init_integration, "Schließ die Haustür auf")
    english = await process(client, hass, init_integration, "yes", asked["conversation_id"])  # cancels, then is a new command
    assert speech(english) == german("confirm_cancelled") + " Wozu ja?"
    assert service_calls == [] and hass.states.get("lock.front_door").state == "locked"


async def test_an_english_only_agent_is_not_offered_for_german(
    hass: HomeAssistant, init_integration: MockConfigEntry, model_server: ModelServer, hass_ws_client: Any
) -> None:
    """supported_languages is the option: the agent list for a German pipeline shows the German agent, not the old English one."""
    german_agent = ConfigSubentry(data=MappingProxyType(agent(languages=["de", "en"])), subentry_type=SUBENTRY_CONVERSATION,
                                  title="Deutscher Agent", unique_id=None)  # fmt: skip
    hass.config_entries.async_add_subentry(init_integration, german_agent)
    await hass.async_block_till_done()
    ent_reg = er.async_get(hass)
    english_id = agent_id(hass, init_integration)  # the fixture's subentry: from before the option, no languages stored
    german_id = ent_reg.async_get_entity_id("conversation", DOMAIN, german_agent.subentry_id)
    assert CONF_LANGUAGES not in init_integration.subentries[next(iter(init_integration.subentries))].data
    assert conversation.async_get_conversation_languages(hass, english_id) == {"en"}
    assert conversation.async_get_conversation_languages(hass, german_id) == {"de", "en"}

    ws = await hass_ws_client(hass)
    await ws.send_json({"id": 1, "type": "conversation/agent/list", "language": "de", "country": "DE"})
    listed = {a["id"]: a["supported_languages"] for a in (await ws.receive_json())["result"]["agents"]}
    assert listed[english_id] == [] and listed[german_id] == ["de"]
    await ws.send_json({"id": 2, "type": "conversation/agent/list", "language": "en"})
    listed = {a["id"]: a["supported_languages"] for a in (await ws.receive_json())["result"]["agents"]}
    assert listed[english_id] == ["en"] and listed[german_id] == ["en"]


ATTACKS = [
    "schließ die Haustür nicht auf",  # the negation after the object (verb second)
    "die Haustür bitte nicht aufschließen",
    "Schließ die Haustür auf keinen Fall auf",
    "niemals die Haustür entsperren",
    "entsperre die Haustür nicht",  # verb first: only the negation word stops it
    "öffne die Haustür niemals",
    "wer kann die Haustür aufschließen",  # a question
    "mach das Licht im Flur an",  # the lock's area only
    "schließ die Haustür ab",  # lock, not unlock
]


@pytest.mark.parametrize("subentry_data", [agent("allow", ["de"])])
async def test_german_attacker_sentences_do_not_unlock_under_allow(
    hass: HomeAssistant, init_integration: MockConfigEntry, model_server: ModelServer, hass_client: Any, service_calls: list[Any]
) -> None:
    """A model that answers every sentence with an unlock: only the German request that asks for it, by name, runs."""
    er.async_get(hass).async_update_entity("lock.front_door", aliases=user_aliases("front lock", "Haustür"))
    await hass.async_block_till_done()
    init_integration.runtime_data.live.async_invalidate()
    model_server.responder = lambda payload: UNLOCK
    client = await hass_client()
    for sentence in ATTACKS:
        answer = await process(client, hass, init_integration, sentence)
        assert speech(answer) == german("sensitive_unrequested", name="Front Door"), sentence
    assert service_calls == [] and hass.states.get("lock.front_door").state == "locked"

    answer = await process(client, hass, init_integration, "Schließ bitte die Haustür auf")
    assert speech(answer) == german("done_unlocked", name="Front Door")
    assert hass.states.get("lock.front_door").state == "unlocked"


@pytest.mark.parametrize("subentry_data", [agent("allow", ["de"])])
async def test_allow_in_a_language_without_words_asks_back(
    hass: HomeAssistant, init_integration: MockConfigEntry, model_server: ModelServer, service_calls: list[Any]
) -> None:
    """Italian has no agent words: the unlock is asked back (never run), and no Italian reply confirms it."""
    model_server.script(UNLOCK)
    agent_entity = agent_id(hass, init_integration)
    asked = await conversation.async_converse(hass, "sblocca la porta d'ingresso", None, Context(), language="it", agent_id=agent_entity)
    assert asked.continue_conversation is True and hass.states.get("lock.front_door").state == "locked"
    answer = await conversation.async_converse(hass, "sì", asked.conversation_id, Context(), language="it", agent_id=agent_entity)
    await hass.async_block_till_done()
    assert answer.response.speech["plain"]["speech"].startswith(translated_phrases("en")["confirm_cancelled"])
    assert service_calls == [] and hass.states.get("lock.front_door").state == "locked"


@pytest.mark.parametrize("subentry_data", [agent(languages=["de", "nl"])])
async def test_diagnostics_show_the_languages(hass: HomeAssistant, init_integration: MockConfigEntry, hass_client: Any) -> None:
    diag = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert diag["subentries"][0]["languages"] == ["de", "nl"]
    assert diag["available_languages"] == available_languages() and {"de", "en", "es", "fr", "nl"} <= set(diag["available_languages"])


async def test_a_new_agent_defaults_to_home_assistants_language(hass: HomeAssistant, mock_config_entry: MockConfigEntry) -> None:
    """The form offers the languages the agent has words for, preselects Home Assistant's own, and needs at least one."""
    hass.config.language = "de"
    result = await hass.config_entries.subentries.async_init((mock_config_entry.entry_id, SUBENTRY_CONVERSATION), context={"source": SOURCE_USER})
    key = next(k for k in result["data_schema"].schema if k == CONF_LANGUAGES)
    assert key.default() == ["de"] and result["data_schema"].schema[key].config["options"] == available_languages()
    assert result["data_schema"].schema[key].config["multiple"] is True
    form = {"name": "Küche", CONF_MODEL: "statewise-qwen3-1.7b"}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {**form, CONF_LANGUAGES: []})
    assert result["errors"] == {CONF_LANGUAGES: "no_languages"}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {**form, CONF_LANGUAGES: ["nl", "de"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    sub = next(s for s in mock_config_entry.subentries.values() if s.title == "Küche")
    assert sub.data[CONF_LANGUAGES] == ["de", "nl"]


BROKEN = "verbs: {}\nrequest_prefixes: []\nnegations: nicht\nquestions: []\nclause_breaks: [und]\naffirmatives: [ja]\npolite: []\n"


def _forget_words() -> None:
    """The words are read once per process: forget them so a test can point the loader elsewhere (and back)."""
    language._folders.cache_clear()
    language.shipped_words.cache_clear()
    language.load_agent_words.cache_clear()


async def test_a_broken_language_file_fails_setup_in_one_line(hass: HomeAssistant, mock_config_entry: MockConfigEntry, tmp_path: Path) -> None:
    """A broken agent.yaml: the entry does not set up, and its reason is one line naming the file and the field."""
    folder = tmp_path / "languages"
    await hass.async_add_executor_job(partial(folder.joinpath("de").mkdir, parents=True))
    broken = folder / "de" / "agent.yaml"
    await hass.async_add_executor_job(broken.write_text, BROKEN, "utf-8")
    _forget_words()
    try:
        with patch.object(language, "LANGUAGES_DIR", folder):
            assert not await hass.config_entries.async_setup(mock_config_entry.entry_id)
    finally:
        _forget_words()
    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    assert mock_config_entry.reason == f"{broken}: negations: 'nicht' is not of type 'array'"
