"""Export format v0: ``ontology.json``, ``snapshots.json`` and ``manifest.json``.

An export folder is what the Home Assistant integration writes and what the
dataset builder reads. Everything here is validated against the JSON Schemas in
``schemas/v0/export`` and serialised canonically (compact, entities sorted by
id, fixed key order), so the same home always gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from .canonical import dumps, sha256_hex, strict_loads
from .ontology_json import prompt_document
from .sanitize import clean_name
from .schema_validator import schema_validator

EXPORT_SCHEMA_DIR = Path(__file__).parent / "schemas" / "v0" / "export"
ONTOLOGY_FILE = "ontology.json"
SNAPSHOTS_FILE = "snapshots.json"
MANIFEST_FILE = "manifest.json"
ENTITY_KEYS = ("id", "name", "aliases", "area", "area_aliases", "floor", "domain", "device_class", "capabilities", "present")
# At most this many names in a list (the export schemas say the same): a device cannot fill the prompt with a thousand sources.
MAX_ITEMS = {"aliases": 32, "area_aliases": 32, "inputs": 64, "hvac_modes": 16}
# Optional entity keys: written only when non-empty, so exports without them keep their bytes and hashes.
OPTIONAL_ENTITY_KEYS = frozenset({"area_aliases"})


class ExportError(ValueError):
    """An export file is missing, not JSON, or not valid v0; names file and field."""

    def __init__(self, file: str, field: str, message: str) -> None:
        self.file, self.field, self.detail = file, field, message
        super().__init__(f"{file}: {field}: {message}" if field else f"{file}: {message}")


@cache
def export_validator(name: str) -> Draft202012Validator:
    """Validator for ``ontology``, ``snapshots`` or ``manifest``."""
    schema = json.loads((EXPORT_SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    return schema_validator(schema)


def _json_path(path: Iterable[Any]) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


MAX_MESSAGE = 160


def _short(value: Any) -> str:
    """A value as an error may show it: whole when short, else its kind and size (never a whole document)."""
    text = repr(value)
    if len(text) <= 60:
        return text
    if isinstance(value, dict | list):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'} of {len(value)} items"
    return text[:57] + "..."


def _message(err: Any) -> str:
    """Jsonschema's message, with the offending value shortened (its own message repeats the whole value)."""
    text = err.message
    whole = repr(err.instance)
    if whole in text and len(whole) > 60:
        text = text.replace(whole, _short(err.instance))
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def validate_document(name: str, document: Any, file: str) -> None:
    """Raise :class:`ExportError` naming the first invalid field (deterministic order), in one short line."""
    errors = sorted(export_validator(name).iter_errors(document), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        err = errors[0]
        raise ExportError(file, _json_path(err.absolute_path), _message(err))


def _clean(value: Any) -> Any:
    """A name cleaned for the prompt (:func:`.sanitize.clean_name`); ``None`` stays ``None``, an emptied name too."""
    return (clean_name(value) or None) if isinstance(value, str) else value


def _is_name_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


@dataclass(frozen=True)
class Ontology:
    """The home's exposed entities, by id, in canonical order."""

    entities: dict[str, dict[str, Any]]

    @classmethod
    def from_entities(cls, entities: Iterable[Mapping[str, Any]]) -> Ontology:
        """Normalise key order, alias order and entity order; empty optional keys are dropped.

        Every name (entity, alias, area, floor) goes through :func:`.sanitize.clean_name`: no
        chat-template control text, one line (a name left empty by it becomes the entity id).
        """
        normalised = {}
        for ent in sorted(entities, key=lambda e: e["id"]):
            ent = dict(ent)
            ent["name"] = _clean(ent.get("name")) or ent["id"]
            for key in ("area", "floor"):
                ent[key] = _clean(ent.get(key))
            for key in ("aliases", "area_aliases"):
                ent[key] = sorted({a for a in map(_clean, ent.get(key) or []) if a})[: MAX_ITEMS[key]]
            caps = ent.get("capabilities") or {}
            # Name lists (inputs, hvac_modes) are sets: sort them; [min, max] ranges keep their order.
            ent["capabilities"] = {k: sorted(caps[k])[: MAX_ITEMS.get(k)] if _is_name_list(caps[k]) else caps[k] for k in sorted(caps)}
            normalised[ent["id"]] = {k: ent.get(k) for k in ENTITY_KEYS if k not in OPTIONAL_ENTITY_KEYS or ent.get(k)}
        return cls(normalised)

    def document(self) -> dict[str, Any]:
        """The ``ontology.json`` document."""
        return {"format": "statewise.ontology", "version": 0, "entities": list(self.entities.values())}

    def file_json(self) -> str:
        """Canonical text of ``ontology.json``."""
        return dumps(self.document(), sort_keys=False) + "\n"

    @cached_property
    def prompt_json(self) -> str:
        """The ONTOLOGY text the model sees (:mod:`.ontology_json`), built once."""
        return dumps(prompt_document(self.entities.values()), sort_keys=False)

    def hash(self) -> str:
        """``sha256:`` of the canonical file text."""
        return sha256_hex(self.file_json())


@dataclass(frozen=True)
class Snapshot:
    """One whole-home state snapshot."""

    id: str
    taken_at: str
    source: str
    states: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        """Document form, states in canonical order."""
        states = {eid: {"state": s["state"], **{k: s[k] for k in sorted(s) if k != "state"}} for eid, s in sorted(self.states.items())}
        return {"id": self.id, "taken_at": self.taken_at, "source": self.source, "states": states}


def snapshots_json(snapshots: Sequence[Snapshot]) -> str:
    """Canonical text of ``snapshots.json``."""
    doc = {"format": "statewise.snapshots", "version": 0, "snapshots": [s.as_dict() for s in snapshots]}
    return dumps(doc, sort_keys=False) + "\n"


def content_hash(ontology: Ontology, snapshots: Sequence[Snapshot]) -> str:
    """The export's content hash: canonical ontology plus snapshots."""
    return sha256_hex(ontology.file_json(), snapshots_json(snapshots))


def build_manifest(ontology: Ontology, snapshots: Sequence[Snapshot], *, created: str, ha_version: str, language: str | None = None) -> dict[str, Any]:
    """The ``manifest.json`` document (``language``: Home Assistant's language, the dataset builder's default)."""
    manifest = {
        "format": "statewise.export",
        "version": 0,
        "created": created,
        "ha_version": ha_version,
        "content_hash": content_hash(ontology, snapshots),
        "entity_count": len(ontology.entities),
        "snapshot_count": len(snapshots),
    }
    if language:
        manifest["language"] = language
    return manifest


def export_files(ontology: Ontology, snapshots: Sequence[Snapshot], *, created: str, ha_version: str, language: str | None = None) -> dict[str, str]:
    """File name -> canonical text for a whole export folder (validated)."""
    manifest = build_manifest(ontology, snapshots, created=created, ha_version=ha_version, language=language)
    files = {
        ONTOLOGY_FILE: ontology.file_json(),
        SNAPSHOTS_FILE: snapshots_json(snapshots),
        MANIFEST_FILE: dumps(manifest, sort_keys=False) + "\n",
    }
    for name, text in files.items():
        validate_document(name.removesuffix(".json"), json.loads(text), name)
    return files


# An export of a 300-entity home with 48 snapshots is about 2 MiB; anything far larger is not one.
MAX_FILE_BYTES = 64 * 1024 * 1024


def load_json(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Any:
    """A JSON file's value; :class:`ExportError` names the file (and line) when it is missing, too large or not JSON.

    The size is checked before reading; ``NaN``/``Infinity``, integers past Python's digit limit and
    nesting past its recursion limit are refused in one line like any other invalid JSON.
    """
    if not path.is_file():
        raise ExportError(str(path), "", "file not found")
    if (size := path.stat().st_size) > max_bytes:
        raise ExportError(str(path), "", f"file of {size} bytes is larger than the {max_bytes} a Statewise file may have")
    try:
        return strict_loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ExportError(str(path), "", f"not UTF-8 text ({err.reason})") from None
    except json.JSONDecodeError as err:
        raise ExportError(str(path), f"line {err.lineno} column {err.colno}", f"not valid JSON: {err.msg}") from None
    except RecursionError:
        raise ExportError(str(path), "", "not valid JSON: nested too deeply") from None
    except ValueError as err:  # NaN/Infinity, an integer of thousands of digits
        raise ExportError(str(path), "", f"not valid JSON: {str(err)[:80]}") from None


def parse_ontology(document: Any, file: str = ONTOLOGY_FILE) -> Ontology:
    """Validate an ontology document and return it normalised."""
    validate_document("ontology", document, file)
    seen: set[str] = set()
    for i, ent in enumerate(document["entities"]):
        if ent["id"] in seen:
            raise ExportError(file, f"$.entities[{i}].id", f"duplicate entity id {ent['id']!r}")
        if ent["id"].split(".", 1)[0] != ent["domain"]:
            raise ExportError(file, f"$.entities[{i}].domain", f"{ent['domain']!r} does not match the id's domain")
        seen.add(ent["id"])
    return Ontology.from_entities(document["entities"])


def parse_snapshots(document: Any, ontology: Ontology | None = None, file: str = SNAPSHOTS_FILE) -> list[Snapshot]:
    """Validate a snapshots document (and, given an ontology, its entity ids)."""
    validate_document("snapshots", document, file)
    out: list[Snapshot] = []
    seen: set[str] = set()
    for i, snap in enumerate(document["snapshots"]):
        if snap["id"] in seen:
            raise ExportError(file, f"$.snapshots[{i}].id", f"duplicate snapshot id {snap['id']!r}")
        seen.add(snap["id"])
        if ontology is not None:
            for eid in sorted(snap["states"]):
                if eid not in ontology.entities:
                    raise ExportError(file, f"$.snapshots[{i}].states.{eid}", "entity not in ontology.json")
        out.append(Snapshot(snap["id"], snap["taken_at"], snap["source"], {k: dict(v) for k, v in snap["states"].items()}))
    return out


def load_ontology(path: str | Path) -> Ontology:
    """Read and validate an ``ontology.json`` file."""
    path = Path(path)
    return parse_ontology(load_json(path), str(path))


def load_state(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a STATE file: ``{entity_id: {"state": ..}}`` or a snapshots file (its first snapshot)."""
    path = Path(path)
    doc = load_json(path)
    if isinstance(doc, dict) and doc.get("format") == "statewise.snapshots":
        snaps = parse_snapshots(doc, file=str(path))
        if not snaps:
            raise ExportError(str(path), "$.snapshots", "no snapshot in file")
        return snaps[0].states
    wrapped = {"format": "statewise.snapshots", "version": 0, "snapshots": [{"id": "state", "taken_at": "", "source": "live", "states": doc}]}
    try:
        validate_document("snapshots", wrapped, str(path))
    except ExportError as err:
        raise ExportError(str(path), err.field.replace("$.snapshots[0].states", "$"), err.detail) from None
    return {k: dict(v) for k, v in doc.items()}


@dataclass(frozen=True)
class Export:
    """A whole export folder, validated."""

    path: Path
    manifest: dict[str, Any]
    ontology: Ontology
    snapshots: list[Snapshot]


def load_export(folder: str | Path) -> Export:
    """Read and validate an export folder; the manifest hash must match the content."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(str(folder), "", "export folder not found")
    manifest = load_json(folder / MANIFEST_FILE)
    validate_document("manifest", manifest, str(folder / MANIFEST_FILE))
    ontology = load_ontology(folder / ONTOLOGY_FILE)
    snapshots = parse_snapshots(load_json(folder / SNAPSHOTS_FILE), ontology, str(folder / SNAPSHOTS_FILE))
    actual = content_hash(ontology, snapshots)
    if manifest["content_hash"] != actual:
        raise ExportError(str(folder / MANIFEST_FILE), "$.content_hash", f"does not match the files ({actual}); the export was edited or is incomplete")
    return Export(folder, manifest, ontology, snapshots)
