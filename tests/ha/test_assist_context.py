"""``bench/assist_context.py`` reproduces Home Assistant's own Assist static context exactly.

The token benchmark compares the ONTOLOGY with HA's static context; this test
runs HA's own function (as the Assist API calls it, ``include_state=False``:
``homeassistant.helpers.llm._get_exposed_entities`` in 2026.2,
``homeassistant.components.homeassistant.llm.async_get_exposed_entities`` since
it moved) and ``homeassistant.util.yaml.dump`` on the real demo home and checks
the copy against them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml
from homeassistant.components.conversation import DOMAIN as CONVERSATION_DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import llm
from homeassistant.util import yaml as yaml_util

from custom_components.statewise.ontology import build_ontology

from .conftest import DemoHome

BENCH = Path(__file__).parents[2] / "bench" / "assist_context.py"


def _bench():
    spec = importlib.util.spec_from_file_location("assist_context", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_static_context_equals_home_assistants(hass: HomeAssistant, demo_home: DemoHome) -> None:
    bench = _bench()
    ours = bench.static_entities(build_ontology(hass).entities.values())
    theirs = _home_assistants(hass)
    assert len(ours) == len(theirs) > 20
    # Same entries. HA lists aliases in registry order and breaks ties between equal names by state-machine order;
    # the copy reads the ontology, whose aliases are sorted, and breaks ties by entity id.
    def key(d: dict[str, str]) -> tuple:
        first, *aliases = d["names"].split(", ")
        area, *area_aliases = d.get("areas", "").split(", ")
        return first, sorted(aliases), d["domain"], area, sorted(area_aliases)

    assert sorted(map(key, ours)) == sorted(map(key, theirs))
    assert [d["names"].split(", ")[0] for d in ours] == [d["names"].split(", ")[0] for d in theirs]
    assert bench.dump(theirs) == yaml_util.dump(theirs)
    assert yaml.safe_load(bench.dump(ours)) == ours
    assert bench.HEADER in _prompt(hass)


def _home_assistants(hass: HomeAssistant) -> list[dict[str, str]]:
    """HA's static-context entries, wherever this release keeps the function."""
    if hasattr(llm, "_get_exposed_entities"):  # 2026.2
        return list(llm._get_exposed_entities(hass, CONVERSATION_DOMAIN, include_state=False)["entities"].values())
    from homeassistant.components.homeassistant import llm as assist_llm  # 2026.10

    return list(assist_llm.async_get_exposed_entities(hass, CONVERSATION_DOMAIN, include_state=False).values())


def _prompt(hass: HomeAssistant) -> str:
    """The static-context prompt text HA builds."""
    if hasattr(llm, "_get_exposed_entities"):
        return "\n".join(llm.AssistAPI(hass)._async_get_exposed_entities_prompt(llm.LLMContext(
            platform="test", context=None, language="en", assistant=CONVERSATION_DOMAIN, device_id=None),
            {"entities": {"x": {"names": "x", "domain": "light"}}}))  # fmt: skip
    from homeassistant.components.homeassistant import llm as assist_llm

    context = llm.LLMContext(platform="test", context=None, language="en", assistant=CONVERSATION_DOMAIN, device_id=None)
    return assist_llm.async_get_tools(hass, context, llm.LLM_API_ASSIST).prompt
