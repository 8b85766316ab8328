"""Every home with one controllable exposed entity builds with default flags (issue 18): a one-lock home, three lights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from statewise_protocol import Ontology, Snapshot, export_files

from dataset_export.build import BANDS, check_plan, class_of, supplied
from dataset_export.cli import main


def _e(eid: str, name: str, area: str, **caps) -> dict:
    return {"id": eid, "name": name, "aliases": [], "area": area, "floor": None, "domain": eid.split(".")[0], "device_class": None,
            "capabilities": caps, "present": True}


HOMES = {
    # one lock: no multi-step request exists in it (before: "only 195 of 500 ... exactly one tool call is 46.7%" at every size)
    "one_lock": ([_e("lock.front_door", "Front Door", "Hall")], {"lock.front_door": {"state": "locked"}}),
    "three_lights": ([_e("light.living_room", "Living Room Light", "Living Room", brightness=True), _e("light.kitchen", "Kitchen Light", "Kitchen"),
                      _e("light.bedroom", "Bedroom Light", "Bedroom", brightness=True)],
                     {"light.living_room": {"state": "on", "brightness": 40}, "light.kitchen": {"state": "off"}, "light.bedroom": {"state": "off"}}),
}


def _write(folder: Path, entities: list[dict], states: dict) -> Path:
    folder.mkdir(parents=True)
    for name, text in export_files(Ontology.from_entities(entities), [Snapshot("live", "2026-12-01T00:00:00+00:00", "live", states)],
                                   created="2026-12-01T00:00:00+00:00", ha_version="2026.10.4").items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module", params=sorted(HOMES))
def built(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(request.param)
    home = _write(root / "home", *HOMES[request.param])
    assert main(["build", str(home), "--out", str(root / "out"), "--quiet"]) == 0
    return root / "out"


def _rows(out: Path, split: str) -> list[dict]:
    return [json.loads(line) for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_small_home_builds_with_default_flags_within_the_plans_ratios(built):
    stats = json.loads((built / "stats.json").read_text(encoding="utf-8"))
    for split in ("train", "heldout"):
        rows = _rows(built, split)
        assert len(rows) == stats[split]["examples"] > 0
        for cls, (low, high) in BANDS.items():
            assert low <= sum(class_of(r) == cls for r in rows) / len(rows) <= high
    card = (built / "dataset_card.md").read_text(encoding="utf-8")
    if stats["supplied"]:  # a smaller size than asked is said in one line, in the card too
        assert "\n" not in stats["supplied"] and stats["supplied"] in card
    else:
        assert stats["train"]["examples"] == stats["requested"]["train"] == 2000


def test_a_home_that_cannot_supply_the_size_keeps_the_longest_valid_prefix(built):
    rows = _rows(built, "train")[:150]
    kept = supplied(rows, 2000, "train")
    assert 0 < len(kept) <= 150 and kept == rows[: len(kept)]
    assert check_plan(kept, len(kept), "train") == []
    assert supplied(rows, 100, "train") is rows  # enough rows: nothing is cut
