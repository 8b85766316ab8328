"""Values come from the tool registry's argument ranges: valid ones pass the validator's own capability rule, invalid ones fail it."""

from __future__ import annotations

import random
from pathlib import Path

from statewise_protocol import load_export

from dataset_export.intents import Intent, capability_gap, kind_tool, kinds
from dataset_export.language import load_language
from dataset_export.stateful import STATEFUL
from dataset_export.values import enum_values, value_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_values_are_inside_the_schema_and_the_entity_range_and_invalid_ones_outside():
    lang = load_language("en")
    rng = random.Random(3)
    checked = refused = 0
    for home in ("demo_home", "small_flat", "ha_family_home"):
        for entity in load_export(EXAMPLES / home).ontology.entities.values():
            for kind, domains in kinds().items():
                spec = kind_tool(kind, entity["domain"]) if entity["domain"] in domains else None
                if spec is None or enum_values(kind) or capability_gap(entity, Intent(kind)) is not None:
                    continue  # an enumerated kind (its values are the tool's), or one the entity cannot do at all (no brightness, no inputs)
                for _ in range(5):
                    value = value_for(kind, entity, rng, lang)
                    assert capability_gap(entity, Intent(kind, value)) is None, (entity["id"], kind, value)
                    checked += 1
                arg = STATEFUL[kind].value_arg if kind in STATEFUL else (spec.intent or {}).get("value")
                if arg in spec.mapping.get("within", {}) or arg in spec.mapping.get("member_of", {}):
                    bad = value_for(kind, entity, rng, lang, valid=False)
                    schema, cap = spec.arguments[arg], spec.mapping.get("within", {}).get(arg)
                    if cap and list(entity["capabilities"][cap]) == [schema["minimum"], schema["maximum"]]:
                        assert capability_gap(entity, Intent(kind, bad)) is None  # nothing the schema allows is outside its range
                        continue
                    assert capability_gap(entity, Intent(kind, bad)) is not None, (entity["id"], kind, bad)
                    refused += 1
    assert checked > 50 and refused > 10, (checked, refused)
