"""Home Assistant's Assist API static context for a home, reproduced exactly from an ontology.

``homeassistant.helpers.llm.AssistAPI`` (with ``include_state=False``, as Assist
prompts are built since 2025.x) describes every exposed entity except scripts and
calendars as YAML: ``names`` (name, then aliases, joined by ", "), ``domain`` and,
when it has one, ``areas`` (area name, then its aliases), sorted by name, after one
header line. ``tests/ha/test_assist_context.py`` checks this copy against Home
Assistant's own function on the demo home (the same entries; aliases here in the
ontology's sorted order, where HA keeps the registry's). Needs only PyYAML, so both environments
can import it.
"""

from __future__ import annotations

from typing import Any

import yaml

HEADER = "Static Context: An overview of the areas and the devices in this smart home:"
SEPARATE_DOMAINS = frozenset({"script", "calendar"})  # Assist lists these elsewhere (as tools), not in the static context


def static_entities(entities: Any) -> list[dict[str, str]]:
    """HA's ``_get_exposed_entities(..., include_state=False)["entities"]`` values for ontology entities."""
    out = []
    for ent in sorted(entities, key=lambda e: (e["name"], e["id"])):
        if ent["domain"] in SEPARATE_DOMAINS:
            continue
        info = {"names": ", ".join([ent["name"], *ent.get("aliases", [])]), "domain": ent["domain"]}
        if ent.get("area"):
            info["areas"] = ", ".join([ent["area"], *ent.get("area_aliases", [])])
        out.append(info)
    return out


def dump(data: list[dict[str, str]]) -> str:
    """``homeassistant.util.yaml.dump`` (annotatedyaml): block style, unicode, keys unsorted, nulls blank."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, default_flow_style=False, allow_unicode=True, sort_keys=False, Dumper=dumper).replace(": null\n", ":\n")


def static_context(entities: Any) -> tuple[str, int]:
    """The static-context prompt text and how many entities it describes."""
    data = static_entities(entities)
    return HEADER + "\n" + dump(data), len(data)
