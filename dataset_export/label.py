"""A teacher anyone can ask: how one home's teacher reads a sentence and the answer the builder would write for it.

``python -m dataset_export label EXPORT_DIR "sentence"`` (and ``--sentences FILE``)
runs the builder's own reader (:class:`~.recognize.Recognizer`) and policy
(:func:`~.policy.decide`) with the builder's own phrasing choice
(:meth:`~.labelbook.LabelBook.phrasing`), so what it prints is exactly what a row of a
build with that sentence, home and STATE would hold. This is how a user checks what
the model will be taught for their own way of speaking.

STATE: with a STATE (a file, a snapshot of the export, or a line's ``state``) the
prompt carries that STATE for the targets the sentence names, as the builder shows it;
without one the prompt has no STATE. For a fetch, ``followup`` is the answer once the
fetched entities' state is given (from that STATE, else the export's first snapshot).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statewise_protocol import Export, ExportError, allowed_entry, load_state, state_subset
from statewise_protocol.export_format import validate_document

from .intents import OUT_OF_SCOPE, resolve
from .labelbook import LabelBook
from .language import Language
from .policy import FETCH, decide
from .recognize import Recognizer

State = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Label:
    """One sentence, labelled: the JSON line of ``--sentences`` (:meth:`as_dict`)."""

    text: str
    understood: bool
    reading: dict[str, Any] | None = None
    answer: str | None = None
    followup: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """``{"text", "understood", "reading", "answer", "followup"}``."""
        return {"text": self.text, "understood": self.understood, "reading": self.reading, "answer": self.answer, "followup": self.followup}


def _allowed(state: Mapping[str, Mapping[str, Any]]) -> State:
    """STATE as the agent's fetch gives it (fields STATE never carries are dropped, as the builder drops them)."""
    return {eid: allowed_entry(eid.split(".", 1)[0], dict(e)) for eid, e in state.items()}


class Teacher:
    """The builder's reader and policy for one export."""

    def __init__(self, export: Export, lang: Language) -> None:
        """Read the export once; sentences are read in ``lang``."""
        self.export = export
        self.ontology = export.ontology
        self.recognizer = Recognizer(export.ontology, lang)
        self.home_state: State = _allowed(export.snapshots[0].states) if export.snapshots else {}

    def label(self, text: str, state: Mapping[str, Mapping[str, Any]] | None = None) -> Label:
        """How ``text`` is read and answered (see the module docstring for STATE)."""
        found = self.recognizer.understand(text)
        if found is None:
            return Label(text, False)
        intent, reader = found
        o = self.ontology
        full = _allowed(state) if state is not None else None
        res = resolve(o, intent) if intent.kind != OUT_OF_SCOPE else None
        named = (res.ids or res.candidates) if res is not None else ()
        shown = state_subset(full, [e for e in named if e in full]) if full is not None else None
        shown = shown or None
        book = LabelBook()
        key = book.key(o, shown, text)
        decision = decide(o, shown, intent, book.phrasing(key))
        followup = None
        if decision.output_class == FETCH:
            source = full if full is not None else self.home_state
            fetched = decision.calls[0].arguments["entity_ids"]
            second = {**(shown or {}), **state_subset(source, [e for e in fetched if e in source])}
            if set(fetched) <= set(second):
                followup = decide(o, second, intent, book.phrasing(book.key(o, second, text))).answer
        reading = {"reader": reader, "intent": intent.as_dict(), "targets": list(decision.targets or named), "output_class": decision.output_class,
                   "reason": decision.reason}
        return Label(text, True, reading, decision.answer, followup)


def snapshot_state(export: Export, snapshot_id: str) -> State:
    """The states of the export's snapshot ``snapshot_id`` (an :class:`ExportError` naming the ids there are)."""
    for snap in export.snapshots:
        if snap.id == snapshot_id:
            return snap.states
    known = ", ".join(s.id for s in export.snapshots) or "none"
    raise ExportError(str(export.path / "snapshots.json"), "--snapshot", f"no snapshot {snapshot_id!r} (there are: {known})")


def read_sentences(path: str | Path) -> list[tuple[str, State | None]]:
    """The lines of a ``--sentences`` JSONL file, all checked before any is labelled (one-line error naming file, line and field)."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(str(path), "", "file not found")
    out: list[tuple[str, State | None]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            doc = json.loads(line)
        except ValueError as err:
            raise ExportError(str(path), where, f"not JSON ({err.msg})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("text"), str) or not doc["text"].strip():
            raise ExportError(str(path), f"{where}: text", 'each line is {"text": "...", "state"?: {entity_id: entry}}: text must be a non-empty string')
        state = doc.get("state")
        if state is not None:
            wrapped = {"format": "statewise.snapshots", "version": 0, "snapshots": [{"id": "state", "taken_at": "", "source": "live", "states": state}]}
            try:
                validate_document("snapshots", wrapped, str(path))
            except ExportError as err:
                raise ExportError(str(path), f"{where}: state{err.field.replace('$.snapshots[0].states', '')}", err.detail) from None
        out.append((doc["text"], state))
    return out


def state_arg(export: Export, state_file: str | None, snapshot: str | None) -> State | None:
    """STATE from ``--state FILE`` or ``--snapshot ID`` (``None`` when neither is given)."""
    if state_file is not None:
        return load_state(state_file)
    if snapshot is not None:
        return snapshot_state(export, snapshot)
    return None


def describe(label: Label) -> str:
    """The human-readable form: how it was read, the answer, the follow-up."""
    if not label.understood or label.reading is None:
        return f"{label.text}\n  not understood (no reader could place it: a build drops this sentence)"
    reading = label.reading
    lines = [label.text, f"  read by: {reading['reader']}", f"  intent: {json.dumps(reading['intent'], ensure_ascii=False)}",
             f"  targets: {', '.join(reading['targets']) or 'none'}", f"  answer ({reading['output_class']}, {reading['reason']}): {label.answer}"]
    if label.followup is not None:
        lines.append(f"  after STATE: {label.followup}")
    return "\n".join(lines)
