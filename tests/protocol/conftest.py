"""Shared fixtures: the demo home export and helpers to vary it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from statewise_protocol import Ontology, load_export, parse_ontology

DEMO_DIR = Path(__file__).resolve().parents[2] / "examples" / "demo_home"
ONTOLOGY_DOC: dict[str, Any] = json.loads((DEMO_DIR / "ontology.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_export():
    return load_export(DEMO_DIR)


@pytest.fixture(scope="session")
def ontology(demo_export) -> Ontology:
    return demo_export.ontology


@pytest.fixture(scope="session")
def live_state(demo_export) -> dict[str, dict[str, Any]]:
    return next(s for s in demo_export.snapshots if s.source == "live").states


def edit_ontology(edit: Callable[[dict[str, dict[str, Any]]], None]) -> Ontology:
    """The demo ontology after ``edit(entities_by_id)`` changed a deep copy."""
    doc = copy.deepcopy(ONTOLOGY_DOC)
    by_id = {e["id"]: e for e in doc["entities"]}
    edit(by_id)
    doc["entities"] = list(by_id.values())
    return parse_ontology(doc)


@pytest.fixture(scope="session")
def edited_ontology() -> Callable[[Callable[[dict[str, dict[str, Any]]], None]], Ontology]:
    """``edited_ontology(edit)``: see :func:`edit_ontology`."""
    return edit_ontology
