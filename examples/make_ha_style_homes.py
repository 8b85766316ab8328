"""Write three example exports named the way Home Assistant names things: ``examples/ha_*``.

Real homes are not written like the demo home. Home Assistant names an entity after
its device (``has_entity_name``): a device's main entity takes the device's name
("Smart Lock"), its other entities add theirs ("Smart Lock Battery"), and entities of
different domains share names (a lock and its door sensor are both "Smart Lock"; a
garage opener's cover and light are both "Garage Door Opener"). Sensors and binary
sensors are exposed too, nobody sets aliases, some areas have no floor, several
devices share an area, and nothing is unavailable at export time. The devices below
are modelled on common integrations (Hue, Shelly, Sonos, Cast, Nest, Roborock,
Yale, Meross, IKEA, Xiaomi, Aqara) with the entities those integrations create.

- ``ha_apartment``: a flat, no floors (about 40 entities);
- ``ha_family_home``: two floors plus a garage and a garden without a floor (about 90);
- ``ha_big_house``: three floors, over 150 entities.

Run: ``.venv/trainer/bin/python examples/make_ha_style_homes.py``; ``--mansion DIR`` writes
only the 303-entity mansion (five floors) into ``DIR/mansion`` (used by ``bench/home_300.py``).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from statewise_protocol import Ontology, Snapshot, export_files, slugify

from dataset_export.states import random_entry

HERE = Path(__file__).resolve().parent
CREATED, HA_VERSION = "2026-11-28T18:00:00+00:00", "2026.11.2"
HUE = {"brightness": True, "color_temp": [2000, 6535]}
HUE_COLOR = {"brightness": True, "color": True, "color_temp": [2000, 6535]}
SPEAKER = {"power": True, "volume": True, "playback": True, "mute": True}
CAST_TV = {"power": True, "volume": True, "playback": True, "mute": True, "inputs": ["hdmi_1", "hdmi_2", "netflix", "plex", "youtube"]}

# device type -> its entities: (domain, entity name suffix or None for the main entity, device class, capabilities)
DEVICES: dict[str, list[tuple[str, str | None, str | None, dict[str, Any]]]] = {
    "hue_bulb": [("light", None, None, HUE)],
    "hue_color": [("light", None, None, HUE_COLOR)],
    "hue_motion": [("binary_sensor", "Motion", "motion", {}), ("sensor", "Temperature", "temperature", {}), ("sensor", "Illuminance", "illuminance", {}),
                   ("sensor", "Battery", "battery", {})],
    "shelly_plug": [("switch", None, "outlet", {}), ("sensor", "Power", "power", {}), ("sensor", "Energy", "energy", {})],
    "shelly_relay": [("switch", None, None, {})],
    "dimmer": [("light", None, None, {"brightness": True})],
    "onoff_light": [("light", None, None, {})],
    "sonos": [("media_player", None, "speaker", SPEAKER)],
    "cast_tv": [("media_player", None, "tv", CAST_TV)],
    "nest": [("climate", None, None, {"hvac_modes": ["cool", "heat", "heat_cool", "off"], "temp_range": [9, 32], "power": True}),
             ("sensor", "Temperature", "temperature", {}), ("sensor", "Humidity", "humidity", {})],
    "trv": [("climate", None, None, {"hvac_modes": ["heat", "off"], "temp_range": [5, 30]}), ("sensor", "Battery", "battery", {})],
    "roborock": [("vacuum", None, None, {}), ("sensor", "Battery", "battery", {}), ("binary_sensor", "Mop attached", None, {})],
    "yale_lock": [("lock", None, None, {}), ("binary_sensor", None, "door", {}), ("sensor", "Battery", "battery", {})],
    "meross_garage": [("cover", None, "garage", {}), ("light", None, None, {})],
    "ikea_blind": [("cover", None, "blind", {"position": True, "stop": True}), ("sensor", "Battery", "battery", {})],
    "curtain": [("cover", None, "curtain", {"position": True, "stop": True})],
    "purifier": [("fan", None, None, {"speed": True}), ("sensor", "PM2.5", "pm25", {}), ("sensor", "Filter life", None, {})],
    "ceiling_fan": [("fan", None, None, {"speed": True}), ("light", "Light", None, {"brightness": True})],
    "dehumidifier": [("humidifier", None, "dehumidifier", {"humidity_range": [30, 80]}), ("sensor", "Humidity", "humidity", {})],
    "water_heater": [("water_heater", None, None, {"temp_range": [40, 70]}), ("sensor", "Power", "power", {})],
    "aqara_door": [("binary_sensor", None, "door", {}), ("sensor", "Battery", "battery", {})],
    "aqara_climate": [("sensor", "Temperature", "temperature", {}), ("sensor", "Humidity", "humidity", {})],
    "leak": [("binary_sensor", None, "moisture", {})],
    "irrigation": [("valve", None, "water", {"position": True})],
    "todo": [("todo", None, None, {})],
    "scene": [("scene", None, None, {})],
    "script": [("script", None, None, {})],
}


def _entities(devices: list[tuple[str, str, str | None, str | None]]) -> list[dict[str, Any]]:
    """Ontology entities of ``(device name, device type, area, floor)``, named as Home Assistant names them."""
    out: dict[str, dict[str, Any]] = {}
    for device, kind, area, floor in devices:
        for domain, suffix, device_class, caps in DEVICES[kind]:
            name = f"{device} {suffix}" if suffix else device
            eid = f"{domain}.{slugify(name)}"
            n = 2
            while eid in out:  # Home Assistant numbers a second entity id of the same name
                eid = f"{domain}.{slugify(name)}_{n}"
                n += 1
            out[eid] = {"id": eid, "name": name, "aliases": [], "area": area, "floor": floor, "domain": domain,
                        "device_class": device_class, "capabilities": dict(caps), "present": True}
    return list(out.values())


def apartment() -> list[tuple[str, str, str | None, str | None]]:
    """A flat: five rooms, no floors."""
    return [
        ("Living Room Ceiling", "hue_bulb", "Living Room", None), ("Living Room Floor Lamp", "hue_color", "Living Room", None),
        ("Living Room TV", "cast_tv", "Living Room", None), ("Living Room Speaker", "sonos", "Living Room", None),
        ("Living Room Blinds", "ikea_blind", "Living Room", None), ("Living Room Sensor", "aqara_climate", "Living Room", None),
        ("Kitchen Light", "dimmer", "Kitchen", None), ("Kettle", "shelly_plug", "Kitchen", None), ("Kitchen Leak Sensor", "leak", "Kitchen", None),
        ("Bedroom Light", "hue_bulb", "Bedroom", None), ("Bedroom Lamp", "hue_color", "Bedroom", None), ("Bedroom Curtains", "curtain", "Bedroom", None),
        ("Bedroom Speaker", "sonos", "Bedroom", None), ("Thermostat", "nest", "Hallway", None), ("Hallway Motion", "hue_motion", "Hallway", None),
        ("Smart Lock", "yale_lock", "Hallway", None), ("Bathroom Light", "onoff_light", "Bathroom", None),
        ("Dehumidifier", "dehumidifier", "Bathroom", None), ("Robot Vacuum", "roborock", "Living Room", None), ("Shopping List", "todo", None, None),
        ("Movie Time", "scene", "Living Room", None),
    ]


def family_home() -> list[tuple[str, str, str | None, str | None]]:
    """Two floors; the garage and the garden have no floor."""
    g, f = "Ground Floor", "First Floor"
    return [
        ("Living Room Ceiling", "hue_bulb", "Living Room", g), ("Living Room Lamp", "hue_color", "Living Room", g),
        ("Living Room Spots", "dimmer", "Living Room", g), ("Living Room TV", "cast_tv", "Living Room", g),
        ("Living Room Sonos", "sonos", "Living Room", g), ("Living Room Curtains", "curtain", "Living Room", g),
        ("Living Room Thermostat", "nest", "Living Room", g), ("Living Room Air Purifier", "purifier", "Living Room", g),
        ("Kitchen Ceiling", "hue_bulb", "Kitchen", g), ("Kitchen Under Cabinet", "dimmer", "Kitchen", g), ("Coffee Machine", "shelly_plug", "Kitchen", g),
        ("Dishwasher Plug", "shelly_plug", "Kitchen", g), ("Kitchen Speaker", "sonos", "Kitchen", g), ("Kitchen Motion", "hue_motion", "Kitchen", g),
        ("Dining Room Pendant", "hue_color", "Dining Room", g), ("Dining Room Radiator", "trv", "Dining Room", g),
        ("Hallway Light", "onoff_light", "Hallway", g), ("Front Door", "yale_lock", "Hallway", g), ("Hallway Motion", "hue_motion", "Hallway", g),
        ("Study Desk Lamp", "hue_bulb", "Study", g), ("Study Fan", "ceiling_fan", "Study", g), ("Study Air Purifier", "purifier", "Study", g),
        ("Garage Door Opener", "meross_garage", "Garage", None), ("Garage Light", "shelly_relay", "Garage", None),
        ("Freezer", "shelly_plug", "Garage", None), ("Garden Lights", "shelly_relay", "Garden", None), ("Sprinklers", "irrigation", "Garden", None),
        ("Garden Gate", "aqara_door", "Garden", None), ("Main Bedroom Ceiling", "hue_bulb", "Main Bedroom", f),
        ("Main Bedroom Lamp", "hue_color", "Main Bedroom", f), ("Main Bedroom Blinds", "ikea_blind", "Main Bedroom", f),
        ("Main Bedroom Radiator", "trv", "Main Bedroom", f), ("Main Bedroom Speaker", "sonos", "Main Bedroom", f),
        ("Kids Room Light", "hue_color", "Kids Room", f), ("Kids Room Night Light", "dimmer", "Kids Room", f), ("Kids Room Radiator", "trv", "Kids Room", f),
        ("Kids Room Blinds", "ikea_blind", "Kids Room", f), ("Bathroom Light", "dimmer", "Bathroom", f), ("Bathroom Fan", "shelly_relay", "Bathroom", f),
        ("Bathroom Leak Sensor", "leak", "Bathroom", f), ("Landing Light", "onoff_light", "Landing", f), ("Robot Vacuum", "roborock", "Living Room", g),
        ("Water Heater", "water_heater", "Utility Room", None), ("Shopping List", "todo", None, None), ("Family Tasks", "todo", None, None),
        ("Bedtime", "script", None, None), ("Dinner", "scene", "Dining Room", g),
    ]


BIG_HOUSE_FLOORS = {"Basement": ["Gym", "Cinema", "Laundry", "Workshop"], "Ground Floor": ["Kitchen", "Living Room", "Dining Room", "Hallway", "Study", "Snug"],
                    "First Floor": ["Main Bedroom", "Guest Room", "Nursery", "Bathroom", "Landing", "Dressing Room"]}  # fmt: skip
# The big house with a second floor and a loft: over 300 entities (bench/home_300.py generates it, it is not written to examples/).
MANSION_FLOORS = {**BIG_HOUSE_FLOORS, "Second Floor": ["Library", "Music Room", "Office", "Spare Room", "Second Bathroom", "Studio"],
                  "Loft": ["Attic", "Playroom", "Loft Bathroom", "Loft Landing", "Roof Terrace"]}  # fmt: skip


def big_house(floors: dict[str, list[str]] = BIG_HOUSE_FLOORS) -> list[tuple[str, str, str | None, str | None]]:
    """Floors of rooms, every room with several devices (more than 150 entities on the three floors of the big house)."""
    rng = random.Random(7)
    devices: list[tuple[str, str, str | None, str | None]] = []
    for floor, rooms in floors.items():
        for room in rooms:
            devices.append((f"{room} Ceiling", rng.choice(("hue_bulb", "dimmer", "onoff_light")), room, floor))
            devices.append((f"{room} Lamp", "hue_color", room, floor))
            devices.append((f"{room} Motion", "hue_motion", room, floor))
            extra = rng.sample(["shelly_plug", "sonos", "ikea_blind", "trv", "curtain", "purifier", "aqara_climate"], 2)
            names = {"shelly_plug": "Plug", "sonos": "Speaker", "ikea_blind": "Blinds", "trv": "Radiator", "curtain": "Curtains",
                     "purifier": "Air Purifier", "aqara_climate": "Climate"}
            devices += [(f"{room} {names[kind]}", kind, room, floor) for kind in extra]
    devices += [
        ("Cinema Projector", "shelly_plug", "Cinema", "Basement"), ("Cinema TV", "cast_tv", "Cinema", "Basement"),
        ("Living Room TV", "cast_tv", "Living Room", "Ground Floor"), ("Main Bedroom TV", "cast_tv", "Main Bedroom", "First Floor"),
        ("Thermostat", "nest", "Hallway", "Ground Floor"), ("Front Door", "yale_lock", "Hallway", "Ground Floor"),
        ("Back Door", "yale_lock", "Kitchen", "Ground Floor"), ("Garage Door Opener", "meross_garage", "Garage", None),
        ("Garage Light", "shelly_relay", "Garage", None), ("Garden Lights", "shelly_relay", "Garden", None), ("Sprinklers", "irrigation", "Garden", None),
        ("Patio Heater", "shelly_plug", "Garden", None), ("Robot Vacuum", "roborock", "Living Room", "Ground Floor"),
        ("Upstairs Vacuum", "roborock", "Landing", "First Floor"), ("Dehumidifier", "dehumidifier", "Laundry", "Basement"),
        ("Water Heater", "water_heater", "Laundry", "Basement"), ("Shopping List", "todo", None, None), ("House Tasks", "todo", None, None),
        ("Good Morning", "scene", None, None), ("Movie Night", "scene", "Cinema", "Basement"), ("Lock Up", "script", None, None),
    ]
    return devices


def mansion() -> list[tuple[str, str, str | None, str | None]]:
    """Five floors, over 300 entities."""
    return big_house(MANSION_FLOORS)


def write(name: str, devices: list[tuple[str, str, str | None, str | None]], seed: int, root: Path = HERE) -> Path:
    """Write one export folder (a live snapshot and two recorder snapshots without light levels, as the recorder keeps them)."""
    ontology = Ontology.from_entities(_entities(devices))
    rng = random.Random(seed)
    snaps = []
    for i, source in enumerate(("live", "recorder", "recorder")):
        states = {eid: random_entry(e, rng) for eid, e in ontology.entities.items() if e["domain"] not in ("sensor", "binary_sensor")}
        states.update({eid: {"state": rng.choice(("on", "off"))} for eid, e in ontology.entities.items() if e["domain"] == "binary_sensor"})
        states.update({eid: {"state": str(rng.randint(1, 99))} for eid, e in ontology.entities.items() if e["domain"] == "sensor"})
        if source == "recorder":  # Home Assistant does not record light levels
            states = {eid: {k: v for k, v in s.items() if not (eid.startswith("light.") and k in ("brightness", "color_temp_kelvin"))}
                      for eid, s in states.items()}
        snaps.append(Snapshot(f"{source}-20261128T1{i}0000Z", f"2026-11-28T1{i}:00:00+00:00", source, states))
    folder = root / name
    folder.mkdir(exist_ok=True)
    for file, text in export_files(ontology, snaps, created=CREATED, ha_version=HA_VERSION).items():
        (folder / file).write_text(text, encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> None:
    """Write the three homes (or, with ``--mansion DIR``, only the mansion there)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mansion", type=Path, metavar="DIR", help="write only the 303-entity mansion, into DIR/mansion")
    args = parser.parse_args(argv)
    if args.mansion:
        print(write("mansion", mansion(), seed=4, root=args.mansion))
        return
    for name, devices, seed in (("ha_apartment", apartment(), 1), ("ha_family_home", family_home(), 2), ("ha_big_house", big_house(), 3)):
        folder = write(name, devices, seed)
        print(folder, len(_entities(devices)), "entities")


if __name__ == "__main__":
    main()
