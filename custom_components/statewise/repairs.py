"""Repairs issues: the live home drifted from the export the model was trained on.

For every conversation subentry with a trained export, two issues are kept
in the issue registry (created when true, deleted when no longer true):

- ``ontology_changed_<subentry_id>``: the exposed entities differ from the
  trained ``ontology.json``: entities added, removed or renamed (same id, new
  name or aliases). The model cannot know new names; retrain from a new export.
- ``token_budget_<subentry_id>``: the live ontology no longer fits the
  trained token budget. The budget is the trained ontology's token estimate
  plus ``TOKEN_HEADROOM`` (10 %), and never more than the sequence length the
  model was trained with (the agent's ``max_length`` option: the dataset's
  budget, 2048 unless ``--max-length auto`` chose more for a large home).

Token estimates inside Home Assistant are character based
(``ceil(len(system_text) / CHARS_PER_TOKEN)``, a measured lower bound of
characters per token, so the estimate errs high): the Qwen3 tokenizer is not
available there. The trainer counts real tokens; this estimate is only a
drift alarm, and it is compared with an estimate made the same way.

The check runs at entry setup and, debounced, whenever the cached live
ontology is invalidated (:mod:`.live_ontology` lists what does that). Issues are not
fixable from the UI (the fix is a new export and a retrained model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    issue_registry as ir,
)
from homeassistant.helpers.debounce import Debouncer

from .const import (
    CHARS_PER_TOKEN,
    CONF_MAX_LENGTH,
    CONF_TRAINED_EXPORT,
    CONF_TRAINED_TOKENS,
    DEFAULT_MAX_LENGTH,
    DOMAIN,
    ISSUE_ONTOLOGY_CHANGED,
    ISSUE_TOKEN_BUDGET,
    LOGGER,
    SUBENTRY_CONVERSATION,
)
from .export import export_path
from .protocol import ExportError, Ontology, load_ontology, system_text

TOKEN_HEADROOM = 0.10
CHECK_COOLDOWN = 2.0  # seconds between checks after registry changes
MAX_LISTED = 10  # entity ids named in an issue's description


def estimate_tokens(ontology: Ontology) -> int:
    """Character-based token estimate of the system prompt for ``ontology`` (no STATE)."""
    return math.ceil(len(system_text(ontology)) / CHARS_PER_TOKEN)


def token_budget(trained_tokens: int, max_length: int = DEFAULT_MAX_LENGTH) -> int:
    """Largest live estimate that still fits what the model was trained on (and its sequence length)."""
    return min(max_length, math.floor(trained_tokens * (1 + TOKEN_HEADROOM)))


@dataclass(frozen=True)
class OntologyDiff:
    """Entity ids added, removed or renamed between two ontologies."""

    added: list[str]
    removed: list[str]
    renamed: list[str]

    def __bool__(self) -> bool:
        """True when anything differs."""
        return bool(self.added or self.removed or self.renamed)


def diff_ontologies(trained: Ontology, live: Ontology) -> OntologyDiff:
    """Compare by entity id; a changed name or alias set counts as renamed."""
    old, new = trained.entities, live.entities
    renamed = sorted(
        eid
        for eid in set(old) & set(new)
        if old[eid]["name"] != new[eid]["name"] or old[eid]["aliases"] != new[eid]["aliases"]
    )
    return OntologyDiff(sorted(set(new) - set(old)), sorted(set(old) - set(new)), renamed)


def trained_ontology_path(hass: HomeAssistant, export_id: str) -> Path | None:
    """``ontology.json`` of a trained export id (``None`` for a malformed id)."""
    folder = export_path(hass, export_id)
    return None if folder is None else folder / "ontology.json"


async def async_load_trained_ontology(hass: HomeAssistant, export_id: str) -> Ontology | None:
    """The trained export's ontology, or ``None`` when it is missing or invalid (logged)."""
    path = trained_ontology_path(hass, export_id)
    if path is None:
        return None
    try:
        return await hass.async_add_executor_job(load_ontology, path)
    except ExportError as err:
        LOGGER.warning("Trained export %s cannot be read: %s", export_id, err)
        return None


def _issue_id(kind: str, subentry_id: str) -> str:
    return f"{kind}_{subentry_id}"


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:MAX_LISTED])
    if len(ids) > MAX_LISTED:
        shown += f" (+{len(ids) - MAX_LISTED})"
    return shown or "-"


@callback
def async_update_issues(
    hass: HomeAssistant,
    subentry_id: str,
    title: str,
    export_id: str,
    trained: Ontology,
    live: Ontology,
    trained_tokens: int | None = None,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> None:
    """Create or delete this subentry's two issues from ``trained`` vs ``live``."""
    diff = diff_ontologies(trained, live)
    issue_id = _issue_id(ISSUE_ONTOLOGY_CHANGED, subentry_id)
    if diff:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_ONTOLOGY_CHANGED,
            translation_placeholders={
                "agent": title,
                "export": export_id,
                "added": _names(diff.added),
                "removed": _names(diff.removed),
                "renamed": _names(diff.renamed),
            },
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)

    trained_tokens = trained_tokens or estimate_tokens(trained)
    live_tokens = estimate_tokens(live)
    budget = token_budget(trained_tokens, max_length)
    issue_id = _issue_id(ISSUE_TOKEN_BUDGET, subentry_id)
    if live_tokens > budget:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_TOKEN_BUDGET,
            translation_placeholders={
                "agent": title,
                "export": export_id,
                "live_tokens": str(live_tokens),
                "budget": str(budget),
            },
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)


@callback
def async_delete_subentry_issues(hass: HomeAssistant, subentry_id: str) -> None:
    """Remove both issues of a subentry."""
    for kind in (ISSUE_ONTOLOGY_CHANGED, ISSUE_TOKEN_BUDGET):
        ir.async_delete_issue(hass, DOMAIN, _issue_id(kind, subentry_id))


@callback
def async_delete_stale_issues(hass: HomeAssistant, keep: set[str] | None = None) -> None:
    """Delete issues of subentries that no longer exist (agent or whole entry removed).

    ``keep``: subentry ids still alive; default: every subentry of every Statewise entry.
    """
    if keep is None:
        keep = {sub_id for entry in hass.config_entries.async_entries(DOMAIN) for sub_id in entry.subentries}
    for domain, issue_id in list(ir.async_get(hass).issues):
        if domain != DOMAIN:
            continue
        for kind in (ISSUE_ONTOLOGY_CHANGED, ISSUE_TOKEN_BUDGET):
            prefix = f"{kind}_"
            if issue_id.startswith(prefix) and issue_id[len(prefix) :] not in keep:
                ir.async_delete_issue(hass, DOMAIN, issue_id)


async def async_check_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Check every conversation subentry of ``entry`` against the live home."""
    async_delete_stale_issues(hass)
    live: Ontology | None = None
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_CONVERSATION:
            continue
        export_id = subentry.data.get(CONF_TRAINED_EXPORT) or ""
        trained = await async_load_trained_ontology(hass, export_id) if export_id else None
        if trained is None:
            async_delete_subentry_issues(hass, subentry.subentry_id)
            continue
        if live is None:
            live = entry.runtime_data.live.ontology
        async_update_issues(
            hass,
            subentry.subentry_id,
            subentry.title,
            export_id,
            trained,
            live,
            subentry.data.get(CONF_TRAINED_TOKENS),
            int(subentry.data.get(CONF_MAX_LENGTH, DEFAULT_MAX_LENGTH)),
        )


@callback
def async_check_entry_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Check now and after every registry/exposure change (debounced) while ``entry`` is loaded."""
    debouncer = Debouncer(
        hass,
        LOGGER,
        cooldown=CHECK_COOLDOWN,
        immediate=False,
        function=partial(async_check_issues, hass, entry),
        background=True,
    )

    @callback
    def _schedule(_event: Event | None = None) -> None:
        debouncer.async_schedule_call()

    entry.async_on_unload(debouncer.async_shutdown)
    entry.async_on_unload(entry.runtime_data.live.async_add_listener(_schedule))
    entry.async_create_background_task(hass, async_check_issues(hass, entry), f"{DOMAIN} issue check")
