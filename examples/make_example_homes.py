"""Write the example exports ``examples/small_flat`` and ``examples/large_house``.

Both are written from scratch with ``statewise_protocol.export_files``
(canonical, validated): a small flat with a different device mix from the demo
home (white-only and on/off lights, vacuum, to-do list, scene, script, no
floors) and a large four-floor house with more than 150 entities.
Run: ``.venv/trainer/bin/python examples/make_example_homes.py``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from statewise_protocol import Ontology, Snapshot, export_files

from dataset_export.states import random_entry

HERE = Path(__file__).resolve().parent
CREATED, HA_VERSION = "2026-11-24T09:00:00+00:00", "2026.11.1"


def entity(eid: str, name: str, *, aliases: tuple[str, ...] = (), area: str | None = None, floor: str | None = None,
           device_class: str | None = None, present: bool = True, **caps: Any) -> dict[str, Any]:
    """One ontology entity."""
    return {"id": eid, "name": name, "aliases": list(aliases), "area": area, "floor": floor, "domain": eid.split(".", 1)[0],
            "device_class": device_class, "capabilities": caps, "present": present}


def small_flat() -> list[dict[str, Any]]:
    """A one-bedroom flat: 17 entities, no floors."""
    tv_caps = {"power": True, "volume": True, "playback": True, "inputs": ["hdmi_1", "hdmi_2", "netflix", "plex"]}
    return [
        entity("light.hall", "Hall Light", aliases=("entry light",), area="Hall", brightness=True),
        entity("light.floor_lamp", "Floor Lamp", aliases=("reading lamp", "lamp"), area="Living Room", brightness=True, color_temp=[2200, 4000]),
        entity("light.bedroom_ceiling", "Bedroom Ceiling", aliases=("bedroom light",), area="Bedroom", brightness=True),
        entity("light.kitchen_strip", "Kitchen Strip", aliases=("under cabinet lights",), area="Kitchen", brightness=True, color=True),
        entity("light.desk", "Desk Light", aliases=("lamp",), area="Bedroom"),
        entity("switch.kettle", "Kettle", area="Kitchen"),
        entity("switch.coffee_machine", "Coffee Machine", aliases=("espresso machine",), area="Kitchen", present=False),
        entity("media_player.living_tv", "Living Room TV", aliases=("tv", "telly"), area="Living Room", device_class="tv", **tv_caps),
        entity("media_player.bedroom_speaker", "Bedroom Speaker", aliases=("speaker",), area="Bedroom", device_class="speaker",
               power=True, volume=True, playback=True),
        entity("climate.radiator", "Radiator Thermostat", aliases=("heating",), area="Living Room", hvac_modes=["heat", "off"], temp_range=[5, 30]),
        entity("vacuum.robo", "Robo", aliases=("robot vacuum", "hoover"), area="Living Room"),
        entity("todo.shopping", "Shopping", aliases=("shopping list",)),
        entity("scene.movie_night", "Movie Night", aliases=("cinema mode",), area="Living Room"),
        entity("script.goodnight", "Goodnight", aliases=("bedtime routine",)),
        entity("cover.bedroom_blind", "Bedroom Blind", aliases=("blind",), area="Bedroom", device_class="blind", position=True, stop=True),
        entity("fan.desk_fan", "Desk Fan", area="Bedroom"),
        entity("lock.front", "Front Door Lock", aliases=("front door",), area="Hall"),
    ]


ROOMS = {
    "Basement": ["Gym", "Laundry", "Cinema", "Workshop"],
    "Ground Floor": ["Kitchen", "Dining Room", "Living Room", "Hallway", "Study", "Garage"],
    "First Floor": ["Main Bedroom", "Guest Bedroom", "Kids Room", "Bathroom", "Landing"],
    "Second Floor": ["Attic Office", "Loft", "Playroom"],
}


def _slug(text: str) -> str:
    return text.lower().replace(" ", "_")


def large_house() -> list[dict[str, Any]]:
    """A four-floor house with a garden: 18 rooms, more than 150 entities."""
    out: list[dict[str, Any]] = []
    rng = random.Random(7)
    for floor, rooms in ROOMS.items():
        for room in rooms:
            s = _slug(room)
            out.append(entity(f"light.{s}_ceiling", f"{room} Ceiling Light", aliases=(f"{room.lower()} light",), area=room, floor=floor,
                              brightness=True, color_temp=[2200, 6500]))
            out.append(entity(f"light.{s}_lamp", f"{room} Lamp", aliases=("lamp",) if rng.random() < 0.3 else (), area=room, floor=floor,
                              brightness=True, color=rng.random() < 0.5))
            if room not in ("Garage", "Laundry", "Workshop", "Bathroom"):
                out.append(entity(f"cover.{s}_blind", f"{room} Blind", area=room, floor=floor, device_class="blind", position=True, stop=True))
                out.append(entity(f"switch.{s}_socket", f"{room} Socket", aliases=(f"{room.lower()} plug",), area=room, floor=floor))
            if room in ("Living Room", "Cinema", "Main Bedroom", "Kids Room", "Loft", "Playroom"):
                inputs = ["hdmi_1", "plex", "youtube"] + (["netflix"] if rng.random() < 0.5 else [])
                out.append(entity(f"media_player.{s}_tv", f"{room} TV", aliases=(f"{room.lower()} telly",), area=room, floor=floor, device_class="tv",
                                  power=True, volume=True, playback=True, inputs=inputs, present=room != "Loft"))
            if room in ("Kitchen", "Dining Room", "Study", "Bathroom", "Gym", "Attic Office", "Guest Bedroom"):
                out.append(entity(f"media_player.{s}_speaker", f"{room} Speaker", area=room, floor=floor, device_class="speaker",
                                  power=True, volume=True, playback=True))
            if room not in ("Hallway", "Landing", "Garage"):
                out.append(entity(f"fan.{s}_fan", f"{room} Fan", area=room, floor=floor, speed=rng.random() < 0.6))
            if room in ("Living Room", "Dining Room", "Main Bedroom", "Guest Bedroom", "Kids Room", "Study", "Cinema", "Loft"):
                out.append(entity(f"light.{s}_wall", f"{room} Wall Light", area=room, floor=floor, brightness=True))
            out.append(entity(f"light.{s}_accent", f"{room} Accent Light", area=room, floor=floor, brightness=True, color=True,
                              present=rng.random() > 0.08))
        out.append(entity(f"climate.{_slug(floor)}", f"{floor} Thermostat", aliases=(f"{floor.lower()} heating",), floor=floor,
                          hvac_modes=["auto", "cool", "heat", "off"], temp_range=[10, 30]))
    for name, alias in (("Porch Light", "front light"), ("Driveway Light", None), ("Patio Lights", "terrace lights"), ("Garden Path Lights", None),
                        ("Shed Light", None)):
        out.append(entity(f"light.{_slug(name)}", name, aliases=(alias,) if alias else (), area="Garden", brightness=name != "Shed Light"))
    for name, area, present in (("Pond Pump", "Garden", True), ("Fountain", "Garden", True), ("Hot Water Heater", "Laundry", True),
                                ("Christmas Tree", "Living Room", False), ("Greenhouse Heater", "Garden", True)):
        out.append(entity(f"switch.{_slug(name)}", name, area=area, present=present))
    for door in ("Front Door", "Back Door", "Garage Side Door", "Patio Door"):
        out.append(entity(f"lock.{_slug(door)}", door, aliases=(f"{door.lower()} lock",), area="Hallway" if door == "Front Door" else None,
                          floor="Ground Floor"))
    out.append(entity("cover.garage_door", "Garage Door", area="Garage", floor="Ground Floor", device_class="garage"))
    for zone in ("Front Lawn", "Back Lawn", "Vegetable Beds", "Greenhouse"):
        out.append(entity(f"valve.{_slug(zone)}", f"{zone} Sprinkler", aliases=(f"{zone.lower()} water",), device_class="water"))
    out.append(entity("valve.main_gas", "Main Gas Valve", area="Basement Utility", device_class="gas"))
    for name, alias in (("Robo Downstairs", "downstairs vacuum"), ("Robo Upstairs", "upstairs vacuum")):
        out.append(entity(f"vacuum.{_slug(name)}", name, aliases=(alias,)))
    for name in ("Shopping", "Chores", "Hardware Store"):
        out.append(entity(f"todo.{_slug(name)}", name, aliases=(f"{name.lower()} list",)))
    for name in ("Movie Night", "Dinner Party", "Good Morning", "All Off"):
        out.append(entity(f"scene.{_slug(name)}", name))
    for name in ("Goodnight", "Leave Home", "Arrive Home"):
        out.append(entity(f"script.{_slug(name)}", name, aliases=(f"{name.lower()} routine",)))
    return out


def snapshots(ontology: Ontology, seed: int, count: int) -> list[Snapshot]:
    """``count`` plausible whole-home snapshots (first one live)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        states = {eid: random_entry(ent, rng) for eid, ent in ontology.entities.items()}
        source = "live" if i == 0 else "recorder"
        out.append(Snapshot("live" if i == 0 else f"recorder-{i}", f"2026-11-2{3 - min(i, 3)}T{18 + i % 5}:00:00+00:00", source, states))
    return out


def write(name: str, entities: list[dict[str, Any]], seed: int, count: int) -> None:
    """Write one export folder canonically."""
    ontology = Ontology.from_entities(entities)
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    for file, text in export_files(ontology, snapshots(ontology, seed, count), created=CREATED, ha_version=HA_VERSION).items():
        (folder / file).write_text(text, encoding="utf-8")
    print(f"{folder}: {len(ontology.entities)} entities")


if __name__ == "__main__":
    write("small_flat", small_flat(), seed=11, count=3)
    write("large_house", large_house(), seed=12, count=4)
