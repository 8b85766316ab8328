"""Properties: whatever the intent and state, the teacher's answer is valid and its text never looks like JSON."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings, strategies as st
from statewise_protocol import check_output, load_export, load_tools

from dataset_export.generate import Generator
from dataset_export.intents import Intent, kinds
from dataset_export.language import load_language
from dataset_export.policy import decide
from dataset_export.states import random_entry
from dataset_export.templates import all_templates
from dataset_export.values import enum_values

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOMES = {name: load_export(EXAMPLES / name) for name in ("demo_home", "small_flat")}
KIND_NAMES = sorted(k for k in kinds() if k != "out_of_scope")


@settings(max_examples=300, deadline=None)
@given(home=st.sampled_from(sorted(HOMES)), kind=st.sampled_from(KIND_NAMES), seed=st.integers(0, 2**16), with_state=st.booleans(),
       valid=st.booleans(), variant=st.integers(0, 50))
def test_any_intent_any_state_gives_a_valid_answer(home, kind, seed, with_state, valid, variant):
    export = HOMES[home]
    ontology = export.ontology
    rng = random.Random(seed)
    gen = Generator(export, "train", seed, list(all_templates(load_language("en"))), lambda eid, entry: True, load_language("en"))
    eid = rng.choice(sorted(ontology.entities))
    entity = ontology.entities[eid]
    value = gen.value_for(kind, entity, valid=valid)
    mention = rng.choice([entity["name"], *entity["aliases"], "the light", "hot tub"])
    intent = Intent(kind, value, mention=mention)
    state = {e: random_entry(ontology.entities[e], rng) for e in ontology.entities} if with_state else None
    decision = decide(ontology, state, intent, variant)
    verdict = check_output(decision.answer, ontology, state)
    assert verdict.ok, (intent, decision.answer, verdict.as_dict())
    assert verdict.kind == decision.output_class
    if decision.output_class == "fetch":
        assert state is None or any(e not in state for e in decision.calls[0].arguments["entity_ids"])
    assert decision.answer == decide(ontology, state, intent, variant).answer  # pure


def test_enum_values_are_tool_enums():
    tools = load_tools()
    args = {name: spec.schema["properties"]["tool_call"]["properties"]["arguments"]["properties"] for name, spec in tools.items()}
    assert set(enum_values("cover")) == set(args["cover_control"]["command"]["enum"])
    assert set(enum_values("vacuum")) == set(args["vacuum_control"]["command"]["enum"])
    assert set(enum_values("lock")) == set(args["lock_control"]["command"]["enum"])
    assert set(enum_values("power")) == {"on", "off"}
