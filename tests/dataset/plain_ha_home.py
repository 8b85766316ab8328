"""A home written the way a plain Home Assistant install looks, and commands in the shapes people use (issue 18).

Entities are named after their devices (no aliases), two floors, a vacuum, a garage
door opener, two to-do lists, a water valve. Each command has the answer a person
expects: ``(output_class, entity ids acted on or fetched)``, or ``("text", reason)``
for a clarification or refusal. The commands were written for this test, by hand,
in the shapes listed in the issue (the examples there are invented, so are these).
"""

from __future__ import annotations

from pathlib import Path

from statewise_protocol import Ontology, Snapshot, export_files

DOWN, UP = "Downstairs", "Upstairs"


def _e(eid: str, name: str, area: str | None, floor: str | None, device_class: str | None = None, **caps) -> dict:
    return {"id": eid, "name": name, "aliases": [], "area": area, "floor": floor, "domain": eid.split(".")[0], "device_class": device_class,
            "capabilities": caps, "present": True}


ENTITIES = [
    _e("light.living_room_lamp", "Living Room Lamp", "Living Room", DOWN, brightness=True),
    _e("light.living_room_ceiling", "Living Room Ceiling", "Living Room", DOWN, brightness=True),
    _e("light.kitchen_light", "Kitchen Light", "Kitchen", DOWN),
    _e("light.hallway_light", "Hallway Light", "Hallway", DOWN),
    _e("light.office_light", "Office Light", "Office", DOWN, brightness=True),
    _e("light.porch_light", "Porch Light", "Porch", DOWN),
    _e("light.kids_room_light", "Kids Room Light", "Kids Room", UP, brightness=True),
    _e("light.bedroom_light", "Bedroom Light", "Bedroom", UP, brightness=True),
    _e("light.landing_light", "Landing Light", "Landing", UP),
    _e("vacuum.dyson_upstairs", "Dyson Upstairs", "Landing", UP),
    _e("cover.garage_door_opener", "Garage Door Opener", "Garage", None, "garage"),
    _e("lock.back_door", "Back Door", "Kitchen", DOWN),
    _e("lock.front_door", "Front Door", "Hallway", DOWN),
    _e("valve.lawn_sprinkler", "Lawn Sprinkler", "Garden", None, "water"),
    _e("todo.shopping_list", "Shopping List", None, None),
    _e("todo.chores", "Chores", None, None),
    _e("climate.hallway_thermostat", "Hallway Thermostat", "Hallway", DOWN, power=True, hvac_modes=["heat", "off"], temp_range=[7, 30]),
    _e("media_player.living_room_tv", "Living Room TV", "Living Room", DOWN, "tv", power=True, volume=True, playback=True, mute=True),
    _e("fan.office_fan", "Office Fan", "Office", DOWN, speed=True),
    _e("switch.coffee_maker", "Coffee Maker", "Kitchen", DOWN),
]
STATES = {
    "light.living_room_lamp": {"state": "off"}, "light.living_room_ceiling": {"state": "on", "brightness": 80},
    "light.kitchen_light": {"state": "on"}, "light.hallway_light": {"state": "on"}, "light.office_light": {"state": "off"},
    "light.porch_light": {"state": "off"}, "light.kids_room_light": {"state": "on", "brightness": 40},
    "light.bedroom_light": {"state": "off"}, "light.landing_light": {"state": "on"}, "vacuum.dyson_upstairs": {"state": "docked"},
    "cover.garage_door_opener": {"state": "open"}, "lock.back_door": {"state": "unlocked"}, "lock.front_door": {"state": "locked"},
    "valve.lawn_sprinkler": {"state": "closed"}, "todo.shopping_list": {"state": "2"}, "todo.chores": {"state": "5"},
    "climate.hallway_thermostat": {"state": "heat", "temperature": 20, "current_temperature": 19},
    "media_player.living_room_tv": {"state": "playing", "volume": 30, "muted": False}, "fan.office_fan": {"state": "off"},
    "switch.coffee_maker": {"state": "off"},
}

ALL_LOCKS = {"lock.back_door", "lock.front_door"}
DOWN_LIGHTS = {"light.living_room_lamp", "light.living_room_ceiling", "light.kitchen_light", "light.hallway_light", "light.office_light",
               "light.porch_light"}
# (command, expected output class, expected ids or text reason)
COMMANDS: list[tuple[str, str, set[str] | str]] = [
    # part of a name
    ("start the dyson", "action", {"vacuum.dyson_upstairs"}),
    ("dyson go home", "action", {"vacuum.dyson_upstairs"}),
    ("send the dyson back to its dock", "action", {"vacuum.dyson_upstairs"}),
    ("turn on the coffee", "action", {"switch.coffee_maker"}),
    ("switch on the thermostat", "action", {"climate.hallway_thermostat"}),
    ("turn on the sprinkler", "action", {"valve.lawn_sprinkler"}),
    # name plus device-type noun
    ("lock the back door lock", "action", {"lock.back_door"}),
    ("unlock the front door lock", "action", {"lock.front_door"}),
    ("start the upstairs vacuum", "action", {"vacuum.dyson_upstairs"}),
    ("turn off the kitchen light", "action", {"light.kitchen_light"}),
    ("turn on the porch light", "action", {"light.porch_light"}),
    ("turn the office fan on", "action", {"fan.office_fan"}),
    ("turn off the living room tv", "action", {"media_player.living_room_tv"}),
    # device-type nouns and classes
    ("close the garage door", "action", {"cover.garage_door_opener"}),
    ("open the garage door", "action", {"cover.garage_door_opener"}),
    ("open the garage", "action", {"cover.garage_door_opener"}),
    ("pause the vacuum", "action", {"vacuum.dyson_upstairs"}),
    ("start the vacuum", "action", {"vacuum.dyson_upstairs"}),
    ("lock every lock", "action", ALL_LOCKS),
    ("lock all the locks", "action", ALL_LOCKS),
    ("unlock the door", "text", "ambiguous"),
    ("pause the tv", "fetch", {"media_player.living_room_tv"}),
    ("turn on the fan", "action", {"fan.office_fan"}),
    ("set the thermostat to 21 degrees", "action", {"climate.hallway_thermostat"}),
    # floors and places
    ("switch off the downstairs lights please", "action", DOWN_LIGHTS),
    ("turn off the lights upstairs", "action", {"light.kids_room_light", "light.bedroom_light", "light.landing_light"}),
    ("turn on all the kids room lights", "action", {"light.kids_room_light"}),
    ("turn off the lights in the office", "action", {"light.office_light"}),
    ("turn on the living room lights", "action", {"light.living_room_lamp", "light.living_room_ceiling"}),
    ("dim the living room lights to 30%", "action", {"light.living_room_lamp", "light.living_room_ceiling"}),
    ("turn on the lights in the kids room", "action", {"light.kids_room_light"}),
    # several places or steps
    ("turn off the hallway and office lights", "action", {"light.hallway_light", "light.office_light"}),
    ("turn on the porch light and the hallway light", "action", {"light.porch_light", "light.hallway_light"}),
    ("turn off the kitchen light and the porch light", "action", {"light.kitchen_light", "light.porch_light"}),
    ("turn on the porch light and then turn off the hallway light", "action", {"light.porch_light", "light.hallway_light"}),
    ("lock the front door, then lock the back door", "action", ALL_LOCKS),
    # natural verbs
    ("water the lawn", "action", {"valve.lawn_sprinkler"}),
    ("vacuum upstairs", "action", {"vacuum.dyson_upstairs"}),
    ("clean the landing", "action", {"vacuum.dyson_upstairs"}),
    ("make the living room lamp brighter", "fetch", {"light.living_room_lamp"}),
    ("turn up the tv", "fetch", {"media_player.living_room_tv"}),
    ("warm up the hallway", "fetch", {"climate.hallway_thermostat"}),
    ("switch off the downstairs lamps", "action", DOWN_LIGHTS),
    ("turn on the lights on the upstairs floor", "action", {"light.kids_room_light", "light.bedroom_light", "light.landing_light"}),
    # lists
    ("put eggs on the list", "action", {"todo.shopping_list"}),  # "the list" is Home Assistant's shopping list
    ("put eggs on the list please", "action", {"todo.shopping_list"}),
    ("put eggs on the shopping list", "action", {"todo.shopping_list"}),
    ("add milk to my shopping list", "action", {"todo.shopping_list"}),
    ("add take out the bins to chores", "action", {"todo.chores"}),
    ("add bread to the groceries", "action", {"todo.shopping_list"}),
    # plain by-name commands
    ("turn on Living Room Lamp", "action", {"light.living_room_lamp"}),
    ("set Office Light to 50%", "action", {"light.office_light"}),
    ("set the office fan to 40 percent", "action", {"fan.office_fan"}),
    ("open the Lawn Sprinkler", "action", {"valve.lawn_sprinkler"}),
    ("turn off the Landing Light", "action", {"light.landing_light"}),
    ("mute the living room tv", "action", {"media_player.living_room_tv"}),
    # the way people talk to an assistant: its name, "now", the lights by type, the whole home
    ("please switch the lights off", "text", "ambiguous"),  # no room said, nine lights: which ones (Home Assistant needs the speaker's area)
    ("it is so dark here", "text", "ambiguous"),
    ("make the room darker", "text", "ambiguous"),  # the speaker's room: v0 has none, so which lights
    ("jarvis turn on the porch light", "action", {"light.porch_light"}),
    ("alexa lock the back door now", "action", {"lock.back_door"}),
    ("shut off the lights in the kids room", "action", {"light.kids_room_light"}),
    ("lower the lights in the office", "fetch", {"light.office_light"}),
    ("make the office darker", "fetch", {"light.office_light"}),
    ("dim all the lights", "fetch", {"light.bedroom_light", "light.kids_room_light", "light.living_room_ceiling", "light.living_room_lamp",
                                     "light.office_light"}),  # every light that can dim
    ("hoover the house", "action", {"vacuum.dyson_upstairs"}),
    ("clean the entire flat", "action", {"vacuum.dyson_upstairs"}),
    ("make it brighter in the office", "fetch", {"light.office_light"}),
    ("get the coffee machine going", "action", {"switch.coffee_maker"}),
    ("increase the volume", "fetch", {"media_player.living_room_tv"}),
    ("mute", "action", {"media_player.living_room_tv"}),
    # devices this home does not have: a refusal is right
    ("turn on the hot tub", "text", "unknown_entity"),
    ("open the pool cover", "text", "unknown_entity"),
]


# Commands the teacher does not read yet: they must be "not understood", never a wrong answer (none left since issue 18's second part).
NOT_YET: frozenset[str] = frozenset()


def write_export(folder: Path, entities: list[dict] | None = None, states: dict[str, dict] | None = None) -> Path:
    """The home (or ``entities`` in ``states``: a variant of it) as a v0 export folder."""
    ontology = Ontology.from_entities(ENTITIES if entities is None else entities)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in export_files(ontology, [Snapshot("live", "2026-12-01T00:00:00+00:00", "live", STATES if states is None else states)],
                                   created="2026-12-01T00:00:00+00:00", ha_version="2026.10.4").items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
