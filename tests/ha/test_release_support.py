"""The Home Assistant releases the project claims: hacs.json's minimum is the oldest tested leg."""

from __future__ import annotations

import json
import os
from pathlib import Path

from awesomeversion import AwesomeVersion
from homeassistant.const import __version__ as HA_VERSION

ROOT = Path(__file__).parents[2]


def test_this_release_is_supported_and_the_oldest_leg_is_the_claimed_minimum() -> None:
    minimum = AwesomeVersion(json.loads((ROOT / "hacs.json").read_text())["homeassistant"])
    assert AwesomeVersion(HA_VERSION) >= minimum
    leg = os.environ.get("STATEWISE_HA_LEG")
    assert leg in ("oldest", "newest"), "run the Home Assistant tests through scripts/ha_leg.sh (scripts/test.sh does)"
    if leg == "oldest":
        assert AwesomeVersion(HA_VERSION) == minimum
