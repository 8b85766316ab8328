"""When the user's own words ask for a sensitive action, and the asked-back plan store (issue 17)."""

from __future__ import annotations

import pytest
from statewise_protocol import ToolCall
from statewise_protocol.language import Frame, load_agent_words
from statewise_protocol.sensitive import PendingPlans, asked_for, is_affirmative, is_sensitive_action

FRONT_DOOR = {"name": "Front Door", "aliases": ["front lock"], "area": "Hallway", "area_aliases": ["hall"], "device_class": None}
LOCK_NAMED_LOCK = {"name": "Lock", "aliases": [], "area": "Home", "device_class": None}
GARAGE = {"name": "Garage Door", "aliases": [], "area": "Garage", "device_class": "garage"}
UNLOCK = ToolCall("lock_control", {"entity_id": "lock.front_door", "command": "unlock"})


@pytest.mark.parametrize(
    ("command", "asks"),
    [
        ("unlock the front door", True),
        ("please unlock the front lock", True),
        ("turn on the hallway light", False),  # the lock's area: not a request to unlock it (issue 17, reproduced)
        ("open up the hallway", False),  # an area alone is not enough
        ("lock the front door", False),  # "lock" is not "unlock"
        ("don't unlock the front door", False),
        ("do not unlock the front door", False),
        ("never unlock the front door", False),
        ("unlock the frontdoor", False),
        ("unlock it", False),
        ("can you unlock the front door?", True),  # a polite request
        ("unlock the front door?", True),  # English keeps its rule: no "can you" needed (questions_need_prefix: false)
        ("turn on the porch light and unlock the front door", True),  # the second clause asks
        # questions and every negation are not requests (found by the security review)
        ("how do I unlock the front door", False),
        ("I wouldn't unlock the front door", False),
        ("who can unlock the front door?", False),
        ("nobody should unlock the front door", False),
        ("the front door isn't something to unlock", False),
        ("unlock the front door unless it is raining", False),
    ],
)
def test_allow_needs_the_verb_and_the_name_and_no_negation(command: str, asks: bool) -> None:
    assert asked_for(command, UNLOCK, FRONT_DOOR) is asks


def test_a_lock_named_lock_in_an_area_named_home() -> None:
    """'lock the door' names a lock called "Lock" but asks to lock it; 'I'm home' names the area only."""
    call = ToolCall("lock_control", {"entity_id": "lock.lock", "command": "unlock"})
    assert not asked_for("lock the door", call, LOCK_NAMED_LOCK)
    assert not asked_for("I'm home, turn on the lights", call, LOCK_NAMED_LOCK)
    assert asked_for("unlock the lock", call, LOCK_NAMED_LOCK)


def test_a_short_name_inside_another_devices_name_is_not_named() -> None:
    """A lock called "Door": "unlock the back door lock" names the Back Door Lock, not it."""
    door = {"name": "Door", "aliases": [], "device_class": None}
    call = ToolCall("lock_control", {"entity_id": "lock.door", "command": "unlock"})
    assert not asked_for("unlock the back door lock", call, door, ["Back Door Lock", "Hall Light"])
    assert asked_for("unlock the door", call, door, ["Back Door Lock"])
    assert asked_for("unlock the back door lock and unlock the door", call, door, ["Back Door Lock"])


def test_a_question_about_a_garage_door_opens_nothing() -> None:
    opened = ToolCall("cover_control", {"entity_id": "cover.garage_door", "command": "open"})
    assert not asked_for("is the garage door open?", opened, GARAGE)
    assert not asked_for("is the garage door open", opened, GARAGE)


def test_verbs_come_from_the_registry_per_value() -> None:
    """Opening a garage door needs "open"; setting its position counts too (cover_position's verbs)."""
    opened = ToolCall("cover_control", {"entity_id": "cover.garage_door", "command": "open"})
    assert asked_for("open the garage door", opened, GARAGE)
    assert not asked_for("close the garage door", opened, GARAGE)
    assert load_agent_words("en").frames_for(opened) == (Frame(("open",), ()),)  # the words live in languages/en/agent.yaml
    position = ToolCall("cover_position", {"entity_id": "cover.garage_door", "position": 40})
    assert asked_for("set the garage door to 40 percent", position, GARAGE)
    assert not asked_for("set the garage door to 0 percent", position, GARAGE)  # the position must be the one said
    gas = {"name": "Gas", "aliases": [], "device_class": "gas"}
    assert not asked_for("set the gas to 0", ToolCall("valve_position", {"entity_id": "valve.gas", "position": 100}), gas)


def test_user_listed_entities_are_sensitive_whatever_the_tool() -> None:
    """A gate relay exposed as a switch, an alarm script: sensitive once listed; under *allow* they are asked back."""
    relay = {"name": "Gate Relay", "aliases": [], "area": "Drive", "device_class": None}
    call = ToolCall("switch_power", {"entity_id": "switch.gate_relay", "state": "on"})
    assert not is_sensitive_action(call, "switch.gate_relay", relay)
    assert is_sensitive_action(call, "switch.gate_relay", relay, ["switch.gate_relay"])
    assert not asked_for("turn on the gate relay", call, relay)  # no registry verb to say: the agent asks back instead
    script = ToolCall("script_run", {"entity_id": "script.disarm_alarm"})
    assert is_sensitive_action(script, "script.disarm_alarm", {"name": "Disarm alarm"}, ["script.disarm_alarm"])


def test_registry_rules_by_device_class() -> None:
    """Opening a cover is sensitive for garage/gate/door classes only; an unclassified cover must be listed by the user."""
    opened = ToolCall("cover_control", {"entity_id": "cover.x", "command": "open"})
    assert is_sensitive_action(opened, "cover.x", {"device_class": "garage"})
    assert not is_sensitive_action(opened, "cover.x", {"device_class": None})
    assert is_sensitive_action(opened, "cover.x", {"device_class": None}, ["cover.x"])
    gas = ToolCall("valve_control", {"entity_id": "valve.gas", "command": "open"})
    assert is_sensitive_action(gas, "valve.gas", {"device_class": "gas"}) and not is_sensitive_action(gas, "valve.gas", {"device_class": "water"})


@pytest.mark.parametrize(
    ("reply", "yes"),
    [("yes", True), ("Yes.", True), ("yes please", True), ("OK", True), ("go ahead", True), ("sure, thanks", True),
     ("no", False), ("yes but not the door", False), ("unlock the back door too", False), ("", False), ("yes no", False)],
)  # fmt: skip
def test_only_a_plain_yes_confirms(reply: str, yes: bool) -> None:
    assert is_affirmative(reply) is yes


def test_a_plan_waits_once_for_its_user_and_expires() -> None:
    now = [100.0]
    plans = PendingPlans(ttl=30, clock=lambda: now[0])
    plans.put("conv", [UNLOCK], "unlock the front door", "alice")
    assert plans.take("conv", "bob") is None  # another user's answer: gone, not confirmed
    assert plans.take("conv", "alice") is None
    plans.put("conv", [UNLOCK], "unlock the front door", "alice")
    taken = plans.take("conv", "alice")
    assert taken is not None and taken.calls == (UNLOCK,)
    assert plans.take("conv", "alice") is None  # used at most once
    plans.put("conv", [UNLOCK], "unlock the front door", "alice")
    now[0] += 30.0
    assert len(plans) == 0 and plans.take("conv", "alice") is None  # silence: expired
    assert plans.take(None, "alice") is None
